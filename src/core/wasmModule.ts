/**
 * A tiny WebAssembly binary emitter: just enough to write small SIMD kernels in TypeScript and
 * build their module at load time (no toolchain, no committed binary, no dependency).
 *
 * Every opcode is named below. Numbers were checked against two opcode tables that follow the
 * final (renumbered) SIMD proposal: WABT's (WebAssembly/wabt, include/wabt/opcode.def, commit
 * 01dfa5b7829384e99e70ad1eb1dbfd157a1f2e9d) and Binaryen's (WebAssembly/binaryen,
 * src/wasm-binary.h, BinaryConsts, commit 9070ff54453bec5e90727cc586b4a702b54628d4). Beware the
 * early drafts of proposals/simd/BinarySIMD.md: their numbers differ. The binary layout
 * (sections, LEB128 integers, types, imports and exports) is that of the WebAssembly core
 * specification, "Binary Format" chapter.
 *
 * Kernels are written with {@link Expr} trees: `simd(SimdOp.i8x16MaxU, get(a), get(b))` pushes
 * both operands then the instruction, so a statement reads like the expression it computes.
 */

/** Value types (core spec 5.3.1 / 5.3.2). */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Core (one-byte) instructions used by the kernels. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  drop: 0x1a,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Store: 0x36,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;

/** Prefix byte of every SIMD instruction; the SIMD opcode follows as an unsigned LEB128. */
export const SIMD_PREFIX = 0xfd;

/** 128-bit SIMD instructions (prefix 0xfd), WABT opcode.def names in camel case. */
export const SimdOp = {
  v128Load: 0x00,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  i8x16Swizzle: 0x0e,
  i8x16Splat: 0x0f,
  i16x8Splat: 0x10,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  i32x4ExtractLane: 0x1b,
  i8x16Eq: 0x23,
  i8x16GtU: 0x28,
  i16x8Eq: 0x2d,
  i16x8LtS: 0x2f,
  i32x4Eq: 0x37,
  i32x4LtS: 0x39,
  f32x4Lt: 0x43,
  v128Not: 0x4d,
  v128And: 0x4e,
  v128Andnot: 0x4f,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  i8x16NarrowI16x8S: 0x65,
  i8x16NarrowI16x8U: 0x66,
  f32x4Ceil: 0x67,
  f32x4Floor: 0x68,
  f32x4Trunc: 0x69,
  f32x4Nearest: 0x6a,
  i8x16Add: 0x6e,
  i8x16AddSatU: 0x70,
  i8x16Sub: 0x71,
  i8x16SubSatU: 0x73,
  i8x16MinU: 0x77,
  i8x16MaxU: 0x79,
  i16x8ExtaddPairwiseI8x16U: 0x7d,
  i32x4ExtaddPairwiseI16x8U: 0x7f,
  i16x8NarrowI32x4S: 0x85,
  i16x8NarrowI32x4U: 0x86,
  i16x8ExtendLowI8x16U: 0x89,
  i16x8ExtendHighI8x16U: 0x8a,
  i16x8Add: 0x8e,
  i16x8Sub: 0x91,
  i16x8Mul: 0x95,
  i16x8ExtmulLowI8x16U: 0x9e,
  i16x8ExtmulHighI8x16U: 0x9f,
  i32x4ExtendLowI16x8S: 0xa7,
  i32x4ExtendHighI16x8S: 0xa8,
  i32x4ExtendLowI16x8U: 0xa9,
  i32x4ExtendHighI16x8U: 0xaa,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4Mul: 0xb5,
  i32x4DotI16x8S: 0xba,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  i32x4TruncSatF32x4S: 0xf8,
  f32x4ConvertI32x4S: 0xfa,
} as const;

/** Section ids (core spec 5.5.2). */
const Section = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
/** Import / export kinds (core spec 5.5.5 / 5.5.10). */
const ExternalKind = { function: 0x00, memory: 0x02 } as const;
/** The function type constructor (core spec 5.3.6) and the empty block type (5.4.1). */
const FUNCTION_TYPE = 0x60;
export const EMPTY_BLOCK = 0x40;

/** Unsigned LEB128 (core spec 5.2.2): 7 bits a byte, low first, high bit = "more follows". */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 (core spec 5.2.2), for `i32.const` immediates. */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`not an i32: ${value}`);
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

/** Appends `source` to `target` (loops: spreading and Array.flat are slow on cold code). */
function append(target: number[], ...sources: (readonly number[] | number)[]): number[] {
  for (const source of sources) {
    if (typeof source === 'number') target.push(source);
    else for (let index = 0; index < source.length; index += 1) target.push(source[index]);
  }
  return target;
}

/** A length-prefixed vector of already encoded items (core spec 5.1.3). */
function vector(items: readonly (readonly number[])[]): number[] {
  return append(unsignedLeb128(items.length), ...items);
}

function name(text: string): number[] {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code > 0x7f) throw new RangeError('names here are ASCII');
    bytes.push(code);
  }
  return append(unsignedLeb128(bytes.length), bytes);
}

/** The instructions of one function body, with its locals (parameters come first). */
export class FunctionBody {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];

  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[] = []) {}

  /** Declares a new local and gives back its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  emit(...bytes: (readonly number[] | number)[]): this {
    append(this.code, ...bytes);
    return this;
  }

  /** A SIMD instruction with its immediates (memarg, lane indices or the 16 bytes of a constant). */
  simd(op: number, immediates: readonly number[] = []): this {
    return this.emit(SIMD_PREFIX, unsignedLeb128(op), immediates);
  }

  /** Locals as runs of equal types, then the code and the final `end`. */
  encode(): number[] {
    const runs: number[][] = [];
    for (let index = 0; index < this.localTypes.length; ) {
      let end = index;
      while (end < this.localTypes.length && this.localTypes[end] === this.localTypes[index]) end += 1;
      runs.push([...unsignedLeb128(end - index), this.localTypes[index]]);
      index = end;
    }
    const body = append(vector(runs), this.code, Op.end);
    return append(unsignedLeb128(body.length), body);
  }
}

/** One exported function of a module. */
export interface ModuleFunction {
  readonly exportName: string;
  readonly body: FunctionBody;
}

/**
 * A module that imports one memory (`env.memory`, at least `minimumPages` of 64 KiB) and exports
 * the given functions. The caller owns the memory, so it can grow it and read it from JavaScript.
 */
export function encodeModule(functions: readonly ModuleFunction[], minimumPages = 1): Uint8Array {
  const section = (id: number, content: readonly number[]): number[] => append([id], unsignedLeb128(content.length), content);
  const types = functions.map(({ body }) => append([FUNCTION_TYPE], vector(body.params.map((type) => [type])), vector(body.results.map((type) => [type]))));
  const memoryImport = append(name('env'), name('memory'), ExternalKind.memory, 0x00, unsignedLeb128(minimumPages));
  const bytes = append(
    [0x00, 0x61, 0x73, 0x6d], // "\0asm"
    [0x01, 0x00, 0x00, 0x00], // version 1
    section(Section.type, vector(types)),
    section(Section.import, vector([memoryImport])),
    section(Section.function, vector(functions.map((_, index) => unsignedLeb128(index)))),
    section(Section.export, vector(functions.map(({ exportName }, index) => append(name(exportName), ExternalKind.function, unsignedLeb128(index))))),
    section(Section.code, vector(functions.map(({ body }) => body.encode()))),
  );
  return Uint8Array.from(bytes);
}

// ----- Expression trees -----------------------------------------------------------------------

/** Code that leaves values on the stack (or, for statements, nothing). */
export type Expr = (body: FunctionBody) => void;

export const get = (local: number): Expr => (body) => void body.emit(Op.localGet, unsignedLeb128(local));
export const set = (local: number, value: Expr): Expr => (body) => {
  value(body);
  body.emit(Op.localSet, unsignedLeb128(local));
};
export const i32 = (value: number): Expr => (body) => void body.emit(Op.i32Const, signedLeb128(value));
/** A core instruction after its operands. */
export const op = (code: number, ...operands: Expr[]): Expr => (body) => {
  for (const operand of operands) operand(body);
  body.emit(code);
};
/** A SIMD instruction without immediates after its operands. */
export const simd = (code: number, ...operands: Expr[]): Expr => (body) => {
  for (const operand of operands) operand(body);
  body.simd(code);
};
/** `v128.const` from 16 bytes. */
export const v128Bytes = (bytes: readonly number[]): Expr => {
  if (bytes.length !== 16) throw new RangeError('v128.const takes 16 bytes');
  const immediates = bytes.map((byte) => byte & 0xff);
  return (body) => void body.simd(SimdOp.v128Const, immediates);
};
/** `v128.const` with the same byte in every lane. */
export const u8x16 = (value: number): Expr => v128Bytes(new Array<number>(16).fill(value));
/** `v128.const` with the same 16-bit integer in every lane (little endian). */
export const i16x8 = (value: number): Expr => v128Bytes(new Array<number>(8).fill(0).flatMap(() => [value & 0xff, (value >>> 8) & 0xff]));
/** `v128.const` with the same 32-bit integer in every lane (little endian). */
export const i32x4 = (value: number): Expr => {
  const lane = [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
  return v128Bytes([...lane, ...lane, ...lane, ...lane]);
};
/** `v128.const` with the same float32 in every lane. */
export const f32x4 = (value: number): Expr => {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  if (view.getFloat32(0, true) !== value) throw new RangeError(`${value} is not a float32`);
  return i32x4(view.getInt32(0, true));
};
/** memarg: alignment exponent (4 = 16 bytes, a hint) and a constant offset. */
const memarg = (offset: number): number[] => append([4], unsignedLeb128(offset));
export const load = (address: Expr, offset = 0): Expr => (body) => {
  address(body);
  body.simd(SimdOp.v128Load, memarg(offset));
};
export const store = (address: Expr, value: Expr, offset = 0): Expr => (body) => {
  address(body);
  value(body);
  body.simd(SimdOp.v128Store, memarg(offset));
};

// ----- Runtime ----------------------------------------------------------------------------------

/** The few WebAssembly JS API members used here (the project's TypeScript libs do not declare them). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's WebAssembly namespace, or undefined where there is none. */
export function webAssembly(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** Bytes in one WebAssembly page. */
export const PAGE_BYTES = 65536;
