/**
 * {@link rgbToHsvPlanes} in WebAssembly SIMD (128-bit): the same planes and sums to the last bit,
 * 16 pixels a loop iteration. The module (about 3.6 KB) is emitted by {@link buildHsvModule} with
 * the emitter of wasmModule.ts on first use (simdHsvAvailable or the first converter), not at
 * import: 9 ms the first time, emitting, compiling and instantiating together (benchmarks/readAhead.ts).
 *
 * Why it is exact. OpenCV (and hsv.ts) computes, with integers,
 *   S = (d * sdiv[V] + 2048) >> 12,   sdiv[v] = round((255 << 12) / v)
 *   H = (n * hdiv[d] + 2048) >> 12,   hdiv[d] = round((180 << 12) / (6 * d)) = round(122880 / d)
 * where V = max, d = max - min and n the hue numerator (g - b, b - r + 2d or r - g + 4d). The
 * kernel does it in float32 lanes, with no table and no gather:
 * - The reciprocals: float32 division is correctly rounded, so `fl(1044480 / v)` is the float32
 *   nearest to the quotient, and `f32x4.nearest` of it equals the table for every v in 1..255
 *   (checked for all 255 values of both tables by the unit test; no quotient lands on a tie).
 * - The products P are integers below 2^21 in magnitude, hence exact in float32: d <= V makes
 *   d * sdiv[V] <= 1044480 + 128, and |n| <= 5d makes |n * hdiv[d]| <= 614400 + 640. So is
 *   P + 1/2 (22 bits).
 * - `(P + 2048) >> 12` is floor((P + 2048) / 4096). Adding 1.5 * 2^35, where float32 values are
 *   4096 apart, rounds P + 1/2 to the nearest multiple of 4096, never on a tie (P + 1/2 is not an
 *   integer), that is 4096 * floor((P + 1/2) / 4096 + 1/2) = 4096 * floor((P + 2048) / 4096):
 *   the arithmetic shift, negative P included. The quotient lands in the low mantissa bits, so
 *   the low byte of the float's bits is the result modulo 256.
 * - Negative hues (-30..-1) come out as 226..255 and get +180 (mod 256: -76); real hues stay
 *   at or below 150, so "above 179" tells them apart.
 * - V = 0 or d = 0 would divide by zero; the divisors are clamped to 1, and the products are
 *   then 0 anyway (d = 0 when V = 0; n = 0 when d = 0), as with the tables' zero entries.
 * Pictures whose pixel count is not a multiple of 16 are padded with black pixels (and zero
 * previous planes) in the kernel's memory; only the real pixels are copied out, and the padding
 * adds nothing to the sums.
 */

import { checkHsvArguments, type HsvPlanes } from './hsvPlanes.js';
import {
  EMPTY_BLOCK,
  FunctionBody,
  Op,
  PAGE_BYTES,
  SimdOp,
  ValType,
  encodeModule,
  f32x4,
  get,
  i32,
  i16x8,
  i32x4,
  load,
  op,
  set,
  simd,
  store,
  u8x16,
  v128Bytes,
  webAssembly,
  type Expr,
  type WasmMemory,
} from '../../../core/wasmModule.js';

/** Pixels per SIMD block. */
const LANES = 16;
/**
 * Pixels per call at most, so that the 32-bit sum lanes cannot overflow: each of the 4 lanes of a
 * plane gains at most 4 x 255 per block, 2^20 blocks give at most 2^30.
 */
const CHUNK_PIXELS = 1 << 24;
/** 255 << 12 and (180 << 12) / 6: the numerators of OpenCV's reciprocal tables. */
const SATURATION_NUMERATOR = 255 << 12;
const HUE_NUMERATOR = (180 << 12) / 6;
/**
 * 1.5 * 2^35: adding it to a float32 below 2^34 in magnitude rounds it to a multiple of 4096
 * (the float32 spacing there), whose quotient by 4096 lands in the low mantissa bits.
 */
const ROUNDING_MAGIC = 1.5 * 2 ** 35;

/**
 * `i8x16.swizzle` lanes that move channel `channel` of the 16 packed RGB pixels held in vector
 * `part` (bytes 16 * part .. 16 * part + 15 of 48) to the pixels' lanes; lanes >= 16 give 0.
 */
function channelLanes(channel: number, part: number): number[] {
  const lanes: number[] = [];
  for (let pixel = 0; pixel < LANES; pixel += 1) {
    const byte = 3 * pixel + channel - 16 * part;
    lanes.push(byte >= 0 && byte < 16 ? byte : 0xff);
  }
  return lanes;
}

/** `i8x16.swizzle` lanes that zero-extend bytes 4q..4q+3 to four 32-bit lanes (indices >= 16 give 0). */
function quarterLanes(quarter: number): number[] {
  const lanes: number[] = [];
  for (let lane = 0; lane < 4; lane += 1) lanes.push(4 * quarter + lane, 0xff, 0xff, 0xff);
  return lanes;
}

/**
 * The kernel: `hsv(rgb, hue, end, stride)` converts the pixels whose hue bytes lie in [hue, end)
 * (a multiple of 16 bytes) from packed RGB at `rgb`; saturation and value planes follow the hue
 * plane `stride` and `2 * stride` bytes after it. With `compare`, `hsvCompare(..., sums)` also
 * reads previous planes at `3..5 * stride` and stores three i32x4 lanes of absolute-difference
 * sums (hue, saturation, value) at `sums`.
 */
function kernel(compare: boolean): FunctionBody {
  const params: ValType[] = [ValType.i32, ValType.i32, ValType.i32, ValType.i32];
  if (compare) params.push(ValType.i32);
  const body = new FunctionBody(params);
  const [rgb, hue, end, stride, sums] = [0, 1, 2, 3, 4];
  const planeOffsets = [0, 1, 2, 3, 4, 5].map((index) => (index === 0 ? -1 : body.local(ValType.i32)));
  const vector = (): number => body.local(ValType.v128);
  const [a0, a1, a2, red, green, blue, maximum, minimum, difference, redMax, greenMax] = Array.from({ length: 11 }, vector);
  const [first, second, base, hueLow, hueHigh, clampedMax, hueOut, saturationOut] = Array.from({ length: 8 }, vector);
  const saturationQuarter = Array.from({ length: 4 }, vector);
  const hueQuarter = Array.from({ length: 4 }, vector);
  const sumLanes = Array.from({ length: 3 }, vector);
  const differenceQuarter = vector();
  const previousPlane = vector();

  const statements: Expr[] = [];
  const at = (plane: number): Expr => (plane === 0 ? get(hue) : op(Op.i32Add, get(hue), get(planeOffsets[plane])));
  for (let plane = 1; plane < (compare ? 6 : 3); plane += 1) statements.push(set(planeOffsets[plane], op(Op.i32Mul, get(stride), i32(plane))));

  const loop: Expr[] = [];
  // Deinterleave 16 RGB pixels.
  loop.push(set(a0, load(get(rgb), 0)), set(a1, load(get(rgb), 16)), set(a2, load(get(rgb), 32)));
  // Constant swizzles compile to single byte shuffles (pshufb); i8x16.shuffle of two vectors
  // costs more on x64.
  const part = (vector: number, channel: number, index: number): Expr => simd(SimdOp.i8x16Swizzle, get(vector), v128Bytes(channelLanes(channel, index)));
  for (const [channel, target] of [red, green, blue].entries()) {
    loop.push(set(target, simd(SimdOp.v128Or, simd(SimdOp.v128Or, part(a0, channel, 0), part(a1, channel, 1)), part(a2, channel, 2))));
  }
  // V, min, d; which channel is the maximum, red first, then green (OpenCV's order).
  loop.push(
    set(maximum, simd(SimdOp.i8x16MaxU, get(red), simd(SimdOp.i8x16MaxU, get(green), get(blue)))),
    set(minimum, simd(SimdOp.i8x16MinU, get(red), simd(SimdOp.i8x16MinU, get(green), get(blue)))),
    set(difference, simd(SimdOp.i8x16Sub, get(maximum), get(minimum))),
    set(redMax, simd(SimdOp.i8x16Eq, get(maximum), get(red))),
    set(greenMax, simd(SimdOp.i8x16Eq, get(maximum), get(green))),
    // Hue numerator n = first - second + base * d: (g - b + 0d), (b - r + 2d) or (r - g + 4d).
    // v128.bitselect(a, b, mask) takes a where the mask is set.
    set(first, simd(SimdOp.v128Bitselect, get(green), simd(SimdOp.v128Bitselect, get(blue), get(red), get(greenMax)), get(redMax))),
    set(second, simd(SimdOp.v128Bitselect, get(blue), simd(SimdOp.v128Bitselect, get(red), get(green), get(greenMax)), get(redMax))),
    // base = 4 - (2 where green is the maximum), then 0 where red is.
    set(base, simd(SimdOp.v128Andnot, simd(SimdOp.i8x16Sub, u8x16(4), simd(SimdOp.v128And, get(greenMax), u8x16(2))), get(redMax))),
  );
  for (const [half, target] of [hueLow, hueHigh].entries()) {
    const extend = half === 0 ? SimdOp.i16x8ExtendLowI8x16U : SimdOp.i16x8ExtendHighI8x16U;
    const extmul = half === 0 ? SimdOp.i16x8ExtmulLowI8x16U : SimdOp.i16x8ExtmulHighI8x16U;
    loop.push(
      set(
        target,
        simd(
          SimdOp.i16x8Add,
          simd(SimdOp.i16x8Sub, simd(extend, get(first)), simd(extend, get(second))),
          simd(extmul, get(base), get(difference)),
        ),
      ),
    );
  }
  loop.push(set(clampedMax, simd(SimdOp.i8x16MaxU, get(maximum), u8x16(1))));
  // (x * nearest(numerator / divisor) + 1/2) + 1.5 * 2^35: (x * table + 2048) >> 12 in the low byte.
  const fixedPoint = (x: Expr, numerator: number, divisor: Expr): Expr =>
    simd(
      SimdOp.v128And,
      simd(
        SimdOp.f32x4Add,
        simd(SimdOp.f32x4Add, simd(SimdOp.f32x4Mul, x, simd(SimdOp.f32x4Nearest, simd(SimdOp.f32x4Div, f32x4(numerator), divisor))), f32x4(0.5)),
        f32x4(ROUNDING_MAGIC),
      ),
      i32x4(0xff),
    );
  const toFloat = (bytes: number, quarter: number): Expr => simd(SimdOp.f32x4ConvertI32x4S, simd(SimdOp.i8x16Swizzle, get(bytes), v128Bytes(quarterLanes(quarter))));
  for (let quarter = 0; quarter < 4; quarter += 1) {
    const numerator = simd(
      SimdOp.f32x4ConvertI32x4S,
      simd(quarter % 2 === 0 ? SimdOp.i32x4ExtendLowI16x8S : SimdOp.i32x4ExtendHighI16x8S, get(quarter < 2 ? hueLow : hueHigh)),
    );
    loop.push(
      set(differenceQuarter, toFloat(difference, quarter)),
      set(saturationQuarter[quarter], fixedPoint(get(differenceQuarter), SATURATION_NUMERATOR, toFloat(clampedMax, quarter))),
      set(hueQuarter[quarter], fixedPoint(numerator, HUE_NUMERATOR, simd(SimdOp.f32x4Pmax, get(differenceQuarter), f32x4(1)))),
    );
  }
  const pack = (quarters: number[]): Expr =>
    simd(
      SimdOp.i8x16NarrowI16x8U,
      simd(SimdOp.i16x8NarrowI32x4U, get(quarters[0]), get(quarters[1])),
      simd(SimdOp.i16x8NarrowI32x4U, get(quarters[2]), get(quarters[3])),
    );
  loop.push(
    set(saturationOut, pack(saturationQuarter)),
    set(hueOut, pack(hueQuarter)),
    // Negative hues wrapped to 226..255: add 180, that is subtract 76 modulo 256, where the
    // hue exceeds 179 (saturating hue - 179 is not 0).
    set(
      hueOut,
      simd(
        SimdOp.i8x16Sub,
        get(hueOut),
        simd(SimdOp.v128Andnot, u8x16(76), simd(SimdOp.i8x16Eq, simd(SimdOp.i8x16SubSatU, get(hueOut), u8x16(179)), u8x16(0))),
      ),
    ),
  );
  const planes = [hueOut, saturationOut, maximum];
  if (compare) {
    for (const [plane, current] of planes.entries()) {
      // |current - previous| as bytes, added up two pixels a 16-bit lane, then four a 32-bit lane
      // (i32x4.dot_i16x8_s with ones: a single pmaddwd on x64, cheaper than extadd_pairwise).
      const absolute = simd(SimdOp.i8x16Sub, simd(SimdOp.i8x16MaxU, get(current), get(previousPlane)), simd(SimdOp.i8x16MinU, get(current), get(previousPlane)));
      loop.push(
        set(previousPlane, load(at(plane + 3))),
        set(sumLanes[plane], simd(SimdOp.i32x4Add, get(sumLanes[plane]), simd(SimdOp.i32x4DotI16x8S, simd(SimdOp.i16x8ExtaddPairwiseI8x16U, absolute), i16x8(1)))),
      );
    }
  }
  for (const [plane, current] of planes.entries()) loop.push(store(at(plane), get(current)));
  loop.push(set(rgb, op(Op.i32Add, get(rgb), i32(3 * LANES))), set(hue, op(Op.i32Add, get(hue), i32(LANES))));

  // do { ... } while (hue < end): the caller never asks for zero pixels.
  statements.push((code) => {
    code.emit(Op.loop, EMPTY_BLOCK);
    for (const statement of loop) statement(code);
    op(Op.i32LtU, get(hue), get(end))(code);
    code.emit(Op.brIf, 0, Op.end);
  });
  if (compare) for (const [plane, lanes] of sumLanes.entries()) statements.push(store(get(sums), get(lanes), 16 * plane));
  for (const statement of statements) statement(body);
  return body;
}

/** The module's bytes: `hsv` and `hsvCompare`, importing `env.memory`. */
export function buildHsvModule(): Uint8Array {
  return encodeModule([
    { exportName: 'hsv', body: kernel(false) },
    { exportName: 'hsvCompare', body: kernel(true) },
  ]);
}

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly or its SIMD is missing (built once). */
function compiledModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  const api = webAssembly();
  if (api === undefined) return compiled;
  try {
    const bytes = buildHsvModule();
    if (!api.validate(bytes)) return compiled;
    const module = new api.Module(bytes);
    new api.Instance(module, { env: { memory: new api.Memory({ initial: 1 }) } });
    compiled = module;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether this runtime validates and runs WebAssembly SIMD (the answer is cached). */
export function simdHsvAvailable(): boolean {
  return compiledModule() !== null;
}

type Kernel = (rgb: number, hue: number, end: number, stride: number) => void;
type CompareKernel = (rgb: number, hue: number, end: number, stride: number, sums: number) => void;

/**
 * {@link rgbToHsvPlanes} on WebAssembly SIMD. Owns one WebAssembly memory, grown when a larger
 * picture arrives: the picture is copied in, converted, and the planes copied out. Check
 * {@link simdHsvAvailable} first; the constructor throws where it is false.
 */
export class SimdHsvConverter {
  private readonly memory: WasmMemory;
  private readonly plain: Kernel;
  private readonly compare: CompareKernel;
  private bytes: Uint8Array;
  private words: Uint32Array;

  constructor() {
    const module = compiledModule();
    const api = webAssembly();
    if (module === null || api === undefined) throw new Error('WebAssembly SIMD is not available on this runtime');
    this.memory = new api.Memory({ initial: 1 });
    const { exports } = new api.Instance(module, { env: { memory: this.memory } });
    this.plain = exports.hsv as Kernel;
    this.compare = exports.hsvCompare as CompareKernel;
    this.bytes = new Uint8Array(this.memory.buffer);
    this.words = new Uint32Array(this.memory.buffer);
  }

  /** Bytes of WebAssembly memory held now (grows with the largest picture seen). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Same contract as {@link rgbToHsvPlanes}: planes of `hue.length` pixels, sums with `previous`. */
  convert(rgb: Uint8Array, hue: Uint8Array, saturation: Uint8Array, value: Uint8Array, previous?: HsvPlanes, sums?: Float64Array): void {
    const pixels = hue.length;
    checkHsvArguments(rgb, hue, saturation, value, previous, sums);
    const compare = previous !== undefined && sums !== undefined;
    if (pixels === 0) {
      if (compare) sums.fill(0, 0, 3);
      return;
    }
    // Layout: packed RGB, then six planes of `stride` bytes (hue, saturation, value, previous
    // hue, saturation, value), then 48 bytes of sums; every part starts on 16 bytes.
    const stride = Math.ceil(pixels / LANES) * LANES;
    const planesAt = 3 * stride;
    const sumsAt = planesAt + 6 * stride;
    this.reserve(sumsAt + 3 * LANES);
    const bytes = this.bytes;
    bytes.set(rgb.subarray(0, 3 * pixels), 0);
    bytes.fill(0, 3 * pixels, 3 * stride);
    if (compare) {
      this.placePrevious(previous.hue, planesAt + 3 * stride, pixels, stride);
      this.placePrevious(previous.saturation, planesAt + 4 * stride, pixels, stride);
      this.placePrevious(previous.value, planesAt + 5 * stride, pixels, stride);
      let hueSum = 0;
      let saturationSum = 0;
      let valueSum = 0;
      const words = this.words;
      const sumsWord = sumsAt >>> 2;
      for (let start = 0; start < stride; start += CHUNK_PIXELS) {
        this.compare(3 * start, planesAt + start, planesAt + Math.min(stride, start + CHUNK_PIXELS), stride, sumsAt);
        hueSum += words[sumsWord] + words[sumsWord + 1] + words[sumsWord + 2] + words[sumsWord + 3];
        saturationSum += words[sumsWord + 4] + words[sumsWord + 5] + words[sumsWord + 6] + words[sumsWord + 7];
        valueSum += words[sumsWord + 8] + words[sumsWord + 9] + words[sumsWord + 10] + words[sumsWord + 11];
      }
      sums[0] = hueSum;
      sums[1] = saturationSum;
      sums[2] = valueSum;
    } else {
      for (let start = 0; start < stride; start += CHUNK_PIXELS) {
        this.plain(3 * start, planesAt + start, planesAt + Math.min(stride, start + CHUNK_PIXELS), stride);
      }
    }
    hue.set(bytes.subarray(planesAt, planesAt + pixels));
    saturation.set(bytes.subarray(planesAt + stride, planesAt + stride + pixels));
    value.set(bytes.subarray(planesAt + 2 * stride, planesAt + 2 * stride + pixels));
  }

  /** Copies a previous plane's `pixels` bytes to `at` and zeroes the padding up to `stride`. */
  private placePrevious(plane: Uint8Array, at: number, pixels: number, stride: number): void {
    this.bytes.set(plane.subarray(0, pixels), at);
    this.bytes.fill(0, at + pixels, at + stride);
  }

  /** Grows the memory to at least `needed` bytes. */
  private reserve(needed: number): void {
    const have = this.memory.buffer.byteLength;
    if (needed <= have) return;
    this.memory.grow(Math.ceil((needed - have) / PAGE_BYTES));
    this.bytes = new Uint8Array(this.memory.buffer);
    this.words = new Uint32Array(this.memory.buffer);
  }
}
