import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * out[C, K] += x[rows, C]^T · dy[rows, K] on the tfjs wasm heap: pointers and
 * row strides in bytes, C a multiple of 4 and K a multiple of 8.
 */
export type FilterGemm = (
  x: number,
  dy: number,
  out: number,
  rows: number,
  xStride: number,
  dyStride: number,
  channels: number,
  outChannels: number,
) => void;

function uleb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const low = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 for the small constants used here (-64..63). */
function sleb(value: number): number[] {
  if (value < -64 || value > 63) {
    throw new Error(`constant ${value} out of range`);
  }
  return [value & 0x7f];
}

const name = (text: string): number[] => [...uleb(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

// Opcodes (WebAssembly core and fixed-width SIMD).
const I32 = 0x7f;
const V128 = 0x7b;
const [BLOCK, LOOP, BR_IF, END, EMPTY] = [0x02, 0x03, 0x0d, 0x0b, 0x40];
const [ADD, SUB, MUL, SHL, LT_S, EQZ] = [0x6a, 0x6b, 0x6c, 0x74, 0x48, 0x45];
const get = (local: number): number[] => [0x20, ...uleb(local)];
const set = (local: number): number[] => [0x21, ...uleb(local)];
const tee = (local: number): number[] => [0x22, ...uleb(local)];
const i32 = (value: number): number[] => [0x41, ...sleb(value)];
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const v128Load = (offset: number): number[] => [...simd(0x00), 4, ...uleb(offset)];
const v128Store = (offset: number): number[] => [...simd(0x0b), 4, ...uleb(offset)];
const load32Splat = (offset: number): number[] => [...simd(0x09), 2, ...uleb(offset)];
const F32X4_ADD = simd(228);
const F32X4_MUL = simd(230);

/**
 * The body of the exported `gemm`: for each 4 x 8 tile of out, eight f32x4
 * accumulators stay in registers while every row adds x[r, c..c+3] (splatted)
 * times dy[r, k..k+7]. Rows are meant to be few enough (an L1-sized block) for
 * the tiles to re-read them from cache.
 */
function gemmBody(): number[] {
  const [x, dy, out, rows, xStride, dyStride, channels, outChannels] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [c0, k0, xp, dp, r, op, rowBytes] = [8, 9, 10, 11, 12, 13, 14];
  const acc = (i: number): number => 15 + i;
  const [d0, d1, splat] = [23, 24, 25];
  const code: number[] = [];
  const tileAddress = [...get(out), ...get(c0), ...get(rowBytes), MUL, ...get(k0), ...i32(2), SHL, ADD, ADD, ...set(op)];
  const eachAccumulatorRow = (emit: (ci: number) => number[]): void => {
    for (let ci = 0; ci < 4; ci++) {
      code.push(...emit(ci), ...get(op), ...get(rowBytes), ADD, ...set(op));
    }
  };
  code.push(...get(outChannels), ...i32(2), SHL, ...set(rowBytes));
  code.push(BLOCK, EMPTY, LOOP, EMPTY); // over c0
  code.push(...i32(0), ...set(k0));
  code.push(LOOP, EMPTY); // over k0
  code.push(...tileAddress);
  eachAccumulatorRow((ci) => [
    ...get(op), ...v128Load(0), ...set(acc(2 * ci)),
    ...get(op), ...v128Load(16), ...set(acc(2 * ci + 1)),
  ]);
  code.push(...get(x), ...get(c0), ...i32(2), SHL, ADD, ...set(xp));
  code.push(...get(dy), ...get(k0), ...i32(2), SHL, ADD, ...set(dp));
  code.push(...get(rows), ...set(r));
  code.push(BLOCK, EMPTY, ...get(r), EQZ, BR_IF, 0);
  code.push(LOOP, EMPTY); // over rows
  code.push(...get(dp), ...v128Load(0), ...set(d0), ...get(dp), ...v128Load(16), ...set(d1));
  for (let ci = 0; ci < 4; ci++) {
    code.push(...get(xp), ...load32Splat(ci * 4), ...set(splat));
    code.push(...get(acc(2 * ci)), ...get(splat), ...get(d0), ...F32X4_MUL, ...F32X4_ADD, ...set(acc(2 * ci)));
    code.push(...get(acc(2 * ci + 1)), ...get(splat), ...get(d1), ...F32X4_MUL, ...F32X4_ADD, ...set(acc(2 * ci + 1)));
  }
  code.push(...get(xp), ...get(xStride), ADD, ...set(xp));
  code.push(...get(dp), ...get(dyStride), ADD, ...set(dp));
  code.push(...get(r), ...i32(1), SUB, ...tee(r), BR_IF, 0);
  code.push(END, END); // rows loop, empty-rows block
  code.push(...tileAddress);
  eachAccumulatorRow((ci) => [
    ...get(op), ...get(acc(2 * ci)), ...v128Store(0),
    ...get(op), ...get(acc(2 * ci + 1)), ...v128Store(16),
  ]);
  code.push(...get(k0), ...i32(8), ADD, ...tee(k0), ...get(outChannels), LT_S, BR_IF, 0);
  code.push(END); // k0 loop
  code.push(...get(c0), ...i32(4), ADD, ...tee(c0), ...get(channels), LT_S, BR_IF, 0);
  code.push(END, END, END); // c0 loop, outer block, function
  const locals = vector([
    [7, I32],
    [11, V128],
  ]);
  return [...locals, ...code];
}

/** The module: imports the tfjs heap as env.memory and exports `gemm`. */
export function filterGemmModuleBytes(): Uint8Array {
  const body = gemmBody();
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, ...vector(new Array<number[]>(8).fill([I32])), 0]])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0]])),
    ...section(7, vector([[...name('gemm'), 0x00, 0]])),
    ...section(10, vector([[...uleb(body.length), ...body]])),
  ];
  return new Uint8Array(bytes);
}

/** The parts of the WebAssembly JS API used here (the lib config has no DOM/wasm types). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
const instances = new WeakMap<object, FilterGemm>();
let simdSupported: boolean | undefined;

/**
 * The gemm bound to this backend's heap, or undefined where the engine lacks
 * wasm SIMD or the tfjs module does not expose its memory.
 */
export function filterGemmFor(backend: BackendWasm): FilterGemm | undefined {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (wasmApi === undefined || !(memory instanceof wasmApi.Memory)) {
    return undefined;
  }
  const known = instances.get(memory);
  if (known !== undefined) {
    return known;
  }
  const bytes = filterGemmModuleBytes();
  simdSupported ??= wasmApi.validate(bytes);
  if (!simdSupported) {
    return undefined;
  }
  const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
  const gemm = instance.exports.gemm as FilterGemm;
  instances.set(memory, gemm);
  return gemm;
}
