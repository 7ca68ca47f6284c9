/**
 * One NumPy .npy array (format versions 1-3): a header naming its dtype, order and shape, then
 * the elements. Read: little-endian (or byte-sized) bool, integers and floats in C order; refused,
 * with the dtype named: object and structured arrays, Fortran order, big-endian data.
 */
export interface NpyArray {
  /** NumPy's dtype text, e.g. '<f4', '|u1', '<i8'. */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The elements in C order, as numbers (64-bit integers must be exact doubles). */
  values(): Float64Array | Float32Array | Uint8Array;
  /** The raw bytes (for uint8 and float32 data kept as they are). */
  readonly data: Buffer;
}

const MAGIC = '\x93NUMPY';
const ITEM_BYTES: Readonly<Record<string, number>> = { b1: 1, u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, u8: 8, i8: 8, f4: 4, f8: 8 };

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

/** The kind and size code of a supported dtype ('f4', 'i8', ...), or an error naming the dtype. */
function dtypeCode(dtype: string): string {
  if (dtype.endsWith('O')) throw new Error(`holds Python objects (dtype ${dtype}); save numbers: x as float32 or uint8, y as integers`);
  const order = dtype[0];
  const code = dtype.slice(1);
  const bytes = ITEM_BYTES[code];
  check(bytes !== undefined, `has dtype ${dtype}, which ippro does not read`);
  check(order === '<' || order === '|' || (order === '=' && bytes === 1), `has big-endian dtype ${dtype}; save it little-endian (astype('<${code}'))`);
  return code;
}

export function readNpy(bytes: Buffer): NpyArray {
  check(bytes.length >= 10 && bytes.toString('latin1', 0, 6) === MAGIC, 'is not a .npy array (no \\x93NUMPY magic)');
  const major = bytes[6] as number;
  check(major >= 1 && major <= 3, `has .npy format version ${major}.${bytes[7]}, which ippro does not read`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  check(headerStart + headerLength <= bytes.length, 'is truncated in its header');
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  check(descr !== undefined, /'descr':\s*\[/.test(header) ? 'is a structured array (named fields); save plain arrays' : 'has a header without a dtype');
  const dtype = descr as string;
  const code = dtypeCode(dtype);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  check(fortran !== undefined, 'has a header without fortran_order');
  check(fortran === 'False', `is stored in Fortran order; save it in C order (np.ascontiguousarray)`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  check(shapeText !== undefined, 'has a header without a shape');
  const shape = (shapeText as string)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => Number(part.replace(/L$/, '')));
  check(shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0), `has a malformed shape (${shapeText})`);
  const count = shape.reduce((product, dim) => product * dim, 1);
  const itemBytes = ITEM_BYTES[code] as number;
  const data = bytes.subarray(headerStart + headerLength);
  check(data.length === count * itemBytes, `holds ${data.length} bytes of data; shape (${shape.join(', ')}) of ${dtype} needs ${count * itemBytes}`);
  return { dtype, shape, data, values: () => numbersOf(code, data, count) };
}

function numbersOf(code: string, data: Buffer, count: number): Float64Array | Float32Array | Uint8Array {
  // A copy: the data need not be aligned for a typed array view.
  const aligned = new Uint8Array(data).buffer;
  switch (code) {
    case 'b1':
    case 'u1':
      return new Uint8Array(aligned);
    case 'f4':
      return new Float32Array(aligned);
    case 'f8':
      return new Float64Array(aligned);
    case 'i1':
      return Float64Array.from(new Int8Array(aligned));
    case 'i2':
      return Float64Array.from(new Int16Array(aligned));
    case 'u2':
      return Float64Array.from(new Uint16Array(aligned));
    case 'i4':
      return Float64Array.from(new Int32Array(aligned));
    case 'u4':
      return Float64Array.from(new Uint32Array(aligned));
    case 'i8':
      return Float64Array.from(new BigInt64Array(aligned, 0, count), (value) => exact(value));
    case 'u8':
      return Float64Array.from(new BigUint64Array(aligned, 0, count), (value) => exact(value));
    default:
      throw new Error(`dtype code ${code} is not read`);
  }
}

function exact(value: bigint): number {
  const number = Number(value);
  check(Number.isSafeInteger(number), `holds the 64-bit integer ${value}, beyond what a label can be`);
  return number;
}
