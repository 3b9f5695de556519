import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { removeDeadTemporarySiblings, temporarySiblingOf } from './outputPaths.js';

/** Rows are gathered into chunks of about this many characters before each write. */
const CHUNK_CHARACTERS = 64 * 1024;

/** PySceneDetect's stats-file timecode: HH:MM:SS.mmm. */
export function formatTimecode(seconds: number): string {
  const totalMilliseconds = Math.max(0, Math.round(seconds * 1000));
  const hours = Math.floor(totalMilliseconds / 3_600_000);
  const minutes = Math.floor((totalMilliseconds % 3_600_000) / 60_000);
  const secondsPart = Math.floor((totalMilliseconds % 60_000) / 1000);
  const milliseconds = totalMilliseconds % 1000;
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(secondsPart, 2)}.${pad(milliseconds, 3)}`;
}

/** A metric as Python's str(float) writes the usual values (27.0, 0.123); an empty cell for NaN. */
export function formatMetric(value: number): string {
  if (Number.isNaN(value)) return '';
  if (Number.isInteger(value)) return value.toFixed(1);
  return String(value);
}

/**
 * Writes per-frame detector metrics as PySceneDetect's stats file does: a header
 * `Frame Number,Timecode,<metric>,...`, then one row per frame with its 1-based frame number, its
 * timecode and the metric values (empty where the detector has none for that frame).
 *
 * It streams: rows are joined into chunks of about 64 KB and written as they fill, so memory does
 * not grow with the video. It writes to a hidden temporary file beside the target and renames it
 * into place at {@link commit}; {@link abandon} (an error, Ctrl-C) deletes it, so a failed run never
 * leaves a half-written stats file. The file is opened on the first row.
 */
export class StatsFileWriter {
  readonly path: string;
  readonly temporaryPath: string;
  private descriptor: number | undefined;
  private names: readonly string[] | undefined;
  private pending = '';
  private settled = false;
  private readonly removeOnExit = () => {
    if (!this.settled) this.removeTemporary();
  };

  constructor(path: string) {
    this.path = resolve(path);
    removeDeadTemporarySiblings(this.path);
    this.temporaryPath = temporarySiblingOf(this.path);
    process.once('exit', this.removeOnExit);
  }

  /** Appends the row of one frame. `values` follow `names`, which must stay the same for the whole file. */
  addRow(frameIndex: number, time: number | undefined, values: ArrayLike<number>, names: readonly string[]): void {
    if (this.settled) return;
    if (!this.names) {
      this.names = names;
      this.open();
      this.pending = `${['Frame Number', 'Timecode', ...names].join(',')}\n`;
    }
    let row = `${frameIndex + 1},${time === undefined || Number.isNaN(time) ? '' : formatTimecode(time)}`;
    for (let index = 0; index < values.length; index += 1) row += `,${formatMetric(values[index])}`;
    this.pending += `${row}\n`;
    if (this.pending.length >= CHUNK_CHARACTERS) this.flushPending();
  }

  /** Writes what is left and renames the file into place (a video with no frame gives a header-less empty file). */
  commit(): void {
    if (this.settled) return;
    try {
      if (this.descriptor === undefined) this.open();
      this.flushPending();
      closeSync(this.descriptor as number);
      this.descriptor = undefined;
      renameSync(this.temporaryPath, this.path);
    } catch (error) {
      this.abandon();
      throw error instanceof PiaggioError ? error : this.failure(error);
    }
    this.settled = true;
    process.removeListener('exit', this.removeOnExit);
  }

  /** Deletes the temporary file; the target is left as it was. */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    process.removeListener('exit', this.removeOnExit);
    this.removeTemporary();
  }

  private open(): void {
    try {
      this.descriptor = openSync(this.temporaryPath, 'w');
    } catch (error) {
      throw this.failure(error);
    }
  }

  private flushPending(): void {
    if (this.pending.length === 0 || this.descriptor === undefined) return;
    try {
      writeSync(this.descriptor, this.pending);
    } catch (error) {
      throw this.failure(error);
    }
    this.pending = '';
  }

  private removeTemporary(): void {
    if (this.descriptor !== undefined) {
      try {
        closeSync(this.descriptor);
      } catch {
        // Already closed or never fully opened: nothing else to release.
      }
      this.descriptor = undefined;
    }
    rmSync(this.temporaryPath, { force: true });
  }

  private failure(error: unknown): PiaggioError {
    return new PiaggioError('EOUTPUT', messages.outputNotWritable(this.path, (error as Error).message), { cause: error });
  }
}
