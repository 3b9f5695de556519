import { abortable } from './abortable.js';
import type { ShardHost } from './dbscanWorkerPool.js';
import type { BatchRequest, NeighbourBatch } from './neighbourhoodShards.js';
import { RowList } from './rangeSearch.js';

/**
 * How the sharded DBSCAN's neighbourhood queries are cut into batches and kept flowing to the
 * shard hosts. Batches trade message overhead against how soon an abort is noticed; their sizes
 * and their order decide how busy the workers stay, which is most of the sharded path's speed.
 */

/**
 * Least neighbours a first query asks for. An HNSW search costs about the same for k = 16 and 32
 * (its candidate list is at least efSearch = 32 long either way), and on the benchmark's data a
 * third of the neighbourhoods that 16 leaves incomplete have 16 to 31 members (9,806 of 35,112 at
 * 100k, counted once): 32 answers them in the first pass instead of with a second search. With
 * the expansion changes below, the expansion step at 100k fell from 15.6 s to 7.7 s
 * (benchmarks/dbscan.ts, stepSeconds).
 */
export const FIRST_LIMIT = 32;
/** Rows a batch of first queries holds (large enough to amortise messages, small enough to stop promptly on abort). */
export const FIRST_BATCH = 2048;
/** Rows a batch of full neighbourhood queries holds (these can be much slower each). */
export const EXPAND_BATCH = 256;

/**
 * Sends the batches to every host, two in flight so the workers never wait for the main thread,
 * and hands each merged answer to `handle` in request order.
 */
export async function forEachBatch(
  hosts: readonly ShardHost[],
  requests: readonly BatchRequest[],
  signal: AbortSignal | undefined,
  handle: (request: BatchRequest, answers: NeighbourBatch[]) => void,
): Promise<void> {
  const inFlight: Promise<NeighbourBatch[]>[] = [];
  let next = 0;
  const send = () => {
    const request = requests[next++];
    const answers = Promise.all(hosts.map((host) => host.search(request)));
    answers.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    inFlight.push(answers);
  };
  while (next < requests.length && inFlight.length < 2) send();
  for (let done = 0; done < requests.length; done++) {
    const answers = await abortable(inFlight.shift() as Promise<NeighbourBatch[]>, signal);
    if (next < requests.length) send();
    handle(requests[done], answers);
  }
}

/**
 * The first queries in batches of about `size` rows, each made of equal runs of consecutive rows
 * from every shard's range. A row's own shard answers it more slowly than the others (it often
 * searches again for the row itself, see HnswRangeSearch), so a batch drawn from one shard keeps
 * that shard's thread busy while the others wait for it; runs from every shard keep all busy.
 * Every row appears in exactly one batch.
 */
export function balancedBatches(ranges: readonly (readonly [number, number])[], size: number, limit: number): BatchRequest[] {
  const run = Math.max(1, Math.floor(size / ranges.length));
  const longest = Math.max(...ranges.map(([start, end]) => end - start));
  const batches: BatchRequest[] = [];
  for (let offset = 0; offset < longest; offset += run) {
    const batchRows = new RowList(size);
    for (const [start, end] of ranges) {
      for (let row = start + offset; row < Math.min(end, start + offset + run); row++) batchRows.push(row);
    }
    batches.push({ rows: batchRows.copy(), limit });
  }
  return batches;
}

/**
 * Step 2's requests to one host: the core points whose answer from it stopped at the limit
 * (`incomplete`), ascending, in batches of `size`, each asking for the whole neighbourhood past
 * the `seen` neighbours the first query returned. A non-core point's answer is always complete.
 */
export function expandBatches(isCore: Uint8Array, incomplete: Uint8Array, size: number, seen: number): { requests: BatchRequest[]; rows: number } {
  const expand = new RowList(1024);
  for (let row = 0; row < isCore.length; row++) if (isCore[row] && incomplete[row]) expand.push(row);
  const hostRows = expand.copy();
  const requests: BatchRequest[] = [];
  for (let start = 0; start < hostRows.length; start += size) {
    requests.push({ rows: hostRows.subarray(start, Math.min(hostRows.length, start + size)), limit: Infinity, seen });
  }
  return { requests, rows: hostRows.length };
}
