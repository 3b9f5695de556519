import { open, rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { removeDeadTemporarySiblings, temporarySiblingOf } from './outputPaths.js';
import { declareOptions, type OptionInput } from '../core/options.js';

/**
 * NumPy's .npy format (numpy.lib.format), enough of it to exchange embeddings with Python: a
 * magic string, a version, a header that is a Python dict literal (`descr`, `fortran_order`,
 * `shape`), padded so the data starts on a 64-byte boundary, then the raw C-order data.
 */

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ALIGNMENT = 64;
/** Bytes moved per read or write call: large files stream through this much memory. */
const CHUNK_BYTES = 1 << 22;

/** The --save-embeddings option, for every run that embeds pictures. */
export const saveEmbeddingsOptions = declareOptions('outputs', {
  saveEmbeddings: {
    placeholder: 'FILE.npy',
    type: 'string',
    description: 'also write the embeddings to FILE.npy (NumPy float32, one row per manifest item, in manifest order)',
  },
});

export type SaveEmbeddingsOptions = OptionInput<typeof saveEmbeddingsOptions>;

/** A 2-D float array read from a .npy file. */
export interface NpyMatrix {
  /** Row-major values, in a SharedArrayBuffer so worker threads can read them without a copy. */
  readonly vectors: Float32Array;
  readonly rows: number;
  readonly dimensions: number;
  /** The file's element type; float64 values were rounded to float32. */
  readonly sourceType: 'float32' | 'float64';
}

/** The header (magic, version, length, dict, padding) for a C-order little-endian float32 array. */
export function npyHeader(shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Version 1.0 stores the header length in 2 bytes; 2.0 in 4, for (absurdly) long shapes.
  const version = dict.length + 1 + 10 > 0xffff ? 2 : 1;
  const prefix = MAGIC.length + 2 + (version === 1 ? 2 : 4);
  const padded = Math.ceil((prefix + dict.length + 1) / ALIGNMENT) * ALIGNMENT;
  const headerLength = padded - prefix;
  const header = Buffer.alloc(padded, 0x20);
  MAGIC.copy(header, 0);
  header[6] = version;
  header[7] = 0;
  if (version === 1) header.writeUInt16LE(headerLength, 8);
  else header.writeUInt32LE(headerLength, 8);
  header.write(dict, prefix, 'latin1');
  header[padded - 1] = 0x0a;
  return header;
}

/** A file written under a temporary name next to its destination, moved into place by commit(). */
export interface StagedFile {
  readonly path: string;
  commit(): Promise<void>;
  abandon(): Promise<void>;
}

/**
 * Writes `rows` (each `dimensions` float32 values) as a .npy file under a temporary name beside
 * `path`; nothing appears at `path` until commit(), so the file there is never half-written.
 */
export async function stageNpy(path: string, rows: readonly Float32Array[], dimensions: number): Promise<StagedFile> {
  removeDeadTemporarySiblings(path);
  const temporary = temporarySiblingOf(path);
  const handle = await open(temporary, 'w').catch((error: NodeJS.ErrnoException) => {
    throw new PiaggioError('ENOTWRITABLE', messages.outputNotWritable(path, error.message), { cause: error });
  });
  try {
    await handle.write(npyHeader([rows.length, dimensions]));
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, dimensions * 4)));
    const chunk = Buffer.alloc(Math.min(rows.length, rowsPerChunk) * dimensions * 4);
    const values = new Float32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
    for (let first = 0; first < rows.length; first += rowsPerChunk) {
      const last = Math.min(rows.length, first + rowsPerChunk);
      for (let row = first; row < last; row++) {
        if (rows[row].length !== dimensions) throw new RangeError(`row ${row} has ${rows[row].length} values, expected ${dimensions}`);
        values.set(rows[row], (row - first) * dimensions);
      }
      // .npy data is little-endian ('<f4'), as Float32Array is on every platform Node supports.
      await handle.write(chunk, 0, (last - first) * dimensions * 4);
    }
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    if (error instanceof PiaggioError || error instanceof RangeError) throw error;
    throw new PiaggioError('ENOTWRITABLE', messages.outputNotWritable(path, (error as Error).message), { cause: error });
  }
  return {
    path,
    commit: async () => {
      await rename(temporary, path);
    },
    abandon: async () => {
      await rm(temporary, { force: true });
    },
  };
}

/** Writes a .npy file at `path` in one step (temporary file, then rename). */
export async function writeNpy(path: string, rows: readonly Float32Array[], dimensions: number): Promise<void> {
  const staged = await stageNpy(path, rows, dimensions);
  try {
    await staged.commit();
  } catch (error) {
    await staged.abandon();
    throw new PiaggioError('ENOTWRITABLE', messages.outputNotWritable(path, (error as Error).message), { cause: error });
  }
}

/** Splits one contiguous row-major array into row views (no copy), for {@link writeNpy}. */
export function rowsOf(vectors: Float32Array, dimensions: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let offset = 0; offset < vectors.length; offset += dimensions) rows.push(vectors.subarray(offset, offset + dimensions));
  return rows;
}

interface ParsedHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

function unreadable(path: string, reason: string): PiaggioError {
  return new PiaggioError('ENPY', messages.npyUnreadable(path, reason));
}

/** Parses the header's Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
function parseHeader(path: string, text: string): ParsedHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw unreadable(path, messages.npyNotNpy());
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => Number(part.replace(/L$/, '')));
  if (shape.some((size) => !Number.isInteger(size) || size < 0)) throw unreadable(path, messages.npyNotNpy());
  return { descr, fortranOrder: fortran === 'True', shape };
}

type FileHandle = Awaited<ReturnType<typeof open>>;

/** Reads exactly `length` bytes at `position` (a read may return less than asked). */
async function readExactly(handle: FileHandle, target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(target, offset + done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * Reads a 2-D C-order little-endian float32 or float64 .npy file (float64 is rounded to float32)
 * into a SharedArrayBuffer, streaming it in 4 MiB chunks. Anything else (other types, big-endian,
 * Fortran order, not 2-D, truncated) is refused with one line saying how to convert it.
 */
export async function readNpy(path: string): Promise<NpyMatrix> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new PiaggioError('ENOENT', messages.inputNotFound(path));
  if (!info.isFile()) throw unreadable(path, messages.npyNotFile());
  const handle = await open(path, 'r');
  try {
    const prefix = Buffer.alloc(12);
    const prefixLength = await readExactly(handle, prefix, 0, 12, 0);
    if (prefixLength < 10 || !prefix.subarray(0, 6).equals(MAGIC)) throw unreadable(path, messages.npyNotNpy());
    const major = prefix[6];
    if (major < 1 || major > 3) throw unreadable(path, messages.npyVersion(`${major}.${prefix[7]}`));
    const headerStart = major === 1 ? 10 : 12;
    const headerLength = major === 1 ? prefix.readUInt16LE(8) : prefix.readUInt32LE(8);
    if (headerStart + headerLength > info.size || headerLength > 1 << 24) throw unreadable(path, messages.npyNotNpy());
    const headerBytes = Buffer.alloc(headerLength);
    await readExactly(handle, headerBytes, 0, headerLength, headerStart);
    const header = parseHeader(path, headerBytes.toString(major === 3 ? 'utf8' : 'latin1'));
    const dataOffset = headerStart + headerLength;

    const byteOrder = header.descr[0];
    const type = header.descr.slice(1);
    if (type !== 'f4' && type !== 'f8') throw unreadable(path, messages.npyType(header.descr));
    if (byteOrder === '>') throw unreadable(path, messages.npyBigEndian(header.descr));
    if (byteOrder !== '<' && byteOrder !== '=') throw unreadable(path, messages.npyType(header.descr));
    if (header.fortranOrder) throw unreadable(path, messages.npyFortranOrder());
    if (header.shape.length !== 2) throw unreadable(path, messages.npyShape(header.shape));
    const [rows, dimensions] = header.shape;
    const itemSize = type === 'f4' ? 4 : 8;
    const expectedBytes = rows * dimensions * itemSize;
    const availableBytes = info.size - dataOffset;
    if (availableBytes < expectedBytes) throw unreadable(path, messages.npyTruncated(expectedBytes, Math.max(0, availableBytes)));

    const vectors = new Float32Array(new SharedArrayBuffer(rows * dimensions * 4));
    if (itemSize === 4) {
      // '<f4' bytes are Float32Array bytes on every little-endian platform Node runs on.
      const target = new Uint8Array(vectors.buffer);
      for (let done = 0; done < expectedBytes; done += CHUNK_BYTES) {
        const want = Math.min(CHUNK_BYTES, expectedBytes - done);
        if ((await readExactly(handle, target, done, want, dataOffset + done)) < want) throw unreadable(path, messages.npyTruncated(expectedBytes, done));
      }
    } else {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, Math.max(8, expectedBytes)));
      for (let done = 0; done < expectedBytes; done += chunk.length) {
        const want = Math.min(chunk.length, expectedBytes - done);
        if ((await readExactly(handle, chunk, 0, want, dataOffset + done)) < want) throw unreadable(path, messages.npyTruncated(expectedBytes, done));
        for (let at = 0; at < want; at += 8) vectors[(done + at) / 8] = chunk.readDoubleLE(at);
      }
    }
    return { vectors, rows, dimensions, sourceType: itemSize === 4 ? 'float32' : 'float64' };
  } finally {
    await handle.close();
  }
}

/**
 * --save-embeddings: stages one row per embedding (manifest order) as FILE.npy beside its
 * destination; the caller commits it together with the output folder, or abandons it.
 */
export function stageEmbeddings(path: string, embeddings: readonly Float32Array[]): Promise<StagedFile> {
  return stageNpy(resolve(path), embeddings, embeddings[0]?.length ?? 0);
}
