import { deflateRawSync } from 'node:zlib';

/*
 * NumPy's .npy and .npz formats, written: what the npz reader reads (npz-dataset.ts, zip-reader.ts,
 * npy-array.ts), for handing arrays to NumPy and for making test files, bad ones included.
 */
import { crc32 } from './zip-reader';

/** One array for an .npy file: NumPy's dtype text, its shape, and its data bytes (C order, little endian). */
export interface NpyEntry {
  dtype: string;
  shape: readonly number[];
  data: Uint8Array;
  /** Writes fortran_order True (the data is taken as it is). */
  fortranOrder?: boolean;
  /** Replaces the header's descr field text, e.g. "[('a', '<f4')]" for a structured array. */
  descr?: string;
}

/** The .npy bytes of an entry: format 1.0, header padded to 64 bytes as NumPy pads it. */
export function npyBytes(entry: NpyEntry): Buffer {
  const shape = entry.shape.length === 1 ? `(${entry.shape[0]},)` : `(${entry.shape.join(', ')})`;
  const descr = entry.descr ?? `'${entry.dtype}'`;
  let header = `{'descr': ${descr}, 'fortran_order': ${entry.fortranOrder === true ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const preamble = Buffer.alloc(10);
  preamble.write('\x93NUMPY', 0, 'latin1');
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), Buffer.from(entry.data)]);
}

/**
 * The fields a ZIP local header (from offset 4) and a central directory entry (from offset 6) share:
 * version needed, flags, method, time, date, CRC-32, sizes, name and extra lengths.
 */
function writeSharedFields(header: Buffer, at: number, method: number, crc: number, compressed: number, size: number, nameLength: number): void {
  header.writeUInt16LE(20, at);
  header.writeUInt16LE(method, at + 4);
  header.writeUInt32LE(crc, at + 10);
  header.writeUInt32LE(compressed, at + 14);
  header.writeUInt32LE(size, at + 18);
  header.writeUInt16LE(nameLength, at + 22);
}

/** A ZIP archive of the members (name -> bytes), stored or deflated, with a central directory (what np.savez writes). */
export function zipBytes(members: Readonly<Record<string, Uint8Array>>, method: 'stored' | 'deflated'): Buffer {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(members)) {
    const stored = method === 'stored' ? Buffer.from(data) : deflateRawSync(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const fields = [method === 'stored' ? 0 : 8, crc32(data), stored.length, data.length, nameBytes.length] as const;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeSharedFields(local, 4, ...fields);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    writeSharedFields(entry, 6, ...fields);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, stored);
    directory.push(entry, nameBytes);
    offset += local.length + nameBytes.length + stored.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(directoryBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directoryBytes, end]);
}

/** An .npz file of the arrays (name -> entry). */
export function npzBytes(arrays: Readonly<Record<string, NpyEntry>>, method: 'stored' | 'deflated' = 'stored'): Buffer {
  return zipBytes(Object.fromEntries(Object.entries(arrays).map(([name, entry]) => [`${name}.npy`, npyBytes(entry)])), method);
}

/** Little-endian bytes of numbers as int64, uint8 or float32. */
export function int64Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values, (value) => BigInt(value)).buffer);
}

export function float32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
