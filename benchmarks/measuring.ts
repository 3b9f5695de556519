/** What the benchmarks share to time runs and describe the machine they ran on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The value after `--name` on the command line, or `fallback` when the flag or its value is missing. */
export function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

/** CPU milliseconds of waited-for children (Linux /proc/self/stat cutime + cstime); null elsewhere. */
export function childrenCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / clockTicks;
  } catch {
    return null;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}

/** The machine a result was measured on: CPU, cores, memory, node, OS. */
export function machineFacts(): { cpu: string | undefined; cores: number; memoryGiB: number; node: string; platform: string } {
  return {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Adjusted Rand index of two labelings (noise -1 counts as one class, as in scikit-learn). */
export function adjustedRandIndex(first: ArrayLike<number>, second: ArrayLike<number>): number {
  const count = first.length;
  if (count !== second.length) throw new RangeError('labelings of different lengths');
  const pairs = new Map<number, number>();
  const rowsOf = new Map<number, number>();
  const columnsOf = new Map<number, number>();
  let largest = 0;
  for (let index = 0; index < count; index++) largest = Math.max(largest, second[index] + 2);
  for (let index = 0; index < count; index++) {
    const a = first[index] + 1;
    const b = second[index] + 1;
    const key = a * largest + b;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    rowsOf.set(a, (rowsOf.get(a) ?? 0) + 1);
    columnsOf.set(b, (columnsOf.get(b) ?? 0) + 1);
  }
  const choose2 = (value: number) => (value * (value - 1)) / 2;
  let index = 0;
  for (const value of pairs.values()) index += choose2(value);
  let rowSum = 0;
  for (const value of rowsOf.values()) rowSum += choose2(value);
  let columnSum = 0;
  for (const value of columnsOf.values()) columnSum += choose2(value);
  // A single item has no pair: its partitions agree (1), not 0 / 0.
  const expected = (rowSum * columnSum) / Math.max(1, choose2(count));
  const maximum = (rowSum + columnSum) / 2;
  return maximum === expected ? 1 : (index - expected) / (maximum - expected);
}
