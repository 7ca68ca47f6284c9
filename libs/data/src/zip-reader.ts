import { inflateRawSync } from 'node:zlib';

/**
 * The members of a ZIP archive (what NumPy's .npz is), read from its central directory: stored
 * and deflated members, ZIP64 sizes and offsets (NumPy writes ZIP64 records), each member's CRC-32
 * checked. Every failure is an Error saying what is wrong; the caller names the file.
 */
export interface ZipMember {
  readonly name: string;
  /** The member's bytes, extracted and checked on each call. */
  read(): Buffer;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_EXTRA = 0x0001;
const SATURATED_32 = 0xffffffff;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as ZIP uses). */
export function crc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 1) crc = (crcTable[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

function readU64(bytes: Buffer, at: number): number {
  const value = bytes.readBigUInt64LE(at);
  check(value <= BigInt(Number.MAX_SAFE_INTEGER), `a ZIP64 size or offset of ${value} bytes`);
  return Number(value);
}

function findEndOfDirectory(bytes: Buffer): number {
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at -= 1) {
    if (bytes.readUInt32LE(at) === END_OF_DIRECTORY) return at;
  }
  throw new Error('not a ZIP archive (no end-of-central-directory record; truncated or another format)');
}

/** Entry count and central directory position, from the ZIP64 record when the classic one is saturated. */
function directoryOf(bytes: Buffer, end: number): { entries: number; offset: number } {
  const entries = bytes.readUInt16LE(end + 10);
  const offset = bytes.readUInt32LE(end + 16);
  if (entries !== 0xffff && offset !== SATURATED_32) return { entries, offset };
  const locator = end - 20;
  check(locator >= 0 && bytes.readUInt32LE(locator) === ZIP64_LOCATOR, 'a ZIP64 archive without its ZIP64 locator');
  const record = readU64(bytes, locator + 8);
  check(record + 56 <= bytes.length && bytes.readUInt32LE(record) === ZIP64_END_OF_DIRECTORY, 'a ZIP64 end-of-directory record out of place');
  return { entries: readU64(bytes, record + 32), offset: readU64(bytes, record + 48) };
}

/** Sizes and offset saturated at 2^32 - 1 in a directory entry come from its ZIP64 extra field, in this order. */
function zip64Values(bytes: Buffer, extraStart: number, extraLength: number, saturated: readonly boolean[]): number[] {
  for (let at = extraStart; at + 4 <= extraStart + extraLength; ) {
    const id = bytes.readUInt16LE(at);
    const size = bytes.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA) {
      let field = at + 4;
      return saturated.map((isSaturated) => {
        if (!isSaturated) return -1;
        const value = readU64(bytes, field);
        field += 8;
        return value;
      });
    }
    at += 4 + size;
  }
  throw new Error('an entry with ZIP64 sizes but no ZIP64 extra field');
}

export function readZipMembers(bytes: Buffer): ZipMember[] {
  const end = findEndOfDirectory(bytes);
  const { entries, offset } = directoryOf(bytes, end);
  const members: ZipMember[] = [];
  let at = offset;
  for (let i = 0; i < entries; i += 1) {
    check(at + 46 <= bytes.length && bytes.readUInt32LE(at) === DIRECTORY_ENTRY, `central directory entry ${i} is damaged`);
    const flags = bytes.readUInt16LE(at + 8);
    const method = bytes.readUInt16LE(at + 10);
    const crc = bytes.readUInt32LE(at + 16);
    let compressed = bytes.readUInt32LE(at + 20);
    let size = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    let local = bytes.readUInt32LE(at + 42);
    const name = bytes.toString('utf8', at + 46, at + 46 + nameLength);
    const saturated = [size === SATURATED_32, compressed === SATURATED_32, local === SATURATED_32];
    if (saturated.some(Boolean)) {
      const [wide, wideCompressed, wideLocal] = zip64Values(bytes, at + 46 + nameLength, extraLength, saturated);
      if (saturated[0]) size = wide as number;
      if (saturated[1]) compressed = wideCompressed as number;
      if (saturated[2]) local = wideLocal as number;
    }
    check((flags & 1) === 0, `member ${name} is encrypted`);
    check(method === 0 || method === 8, `member ${name} uses compression method ${method}; stored (0) and deflate (8) are read`);
    members.push({ name, read: () => extract(bytes, { name, method, crc, compressed, size, local }) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

interface MemberEntry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  local: number;
}

function extract(bytes: Buffer, entry: MemberEntry): Buffer {
  const { name, local } = entry;
  check(local + 30 <= bytes.length && bytes.readUInt32LE(local) === LOCAL_HEADER, `member ${name}: its local header is damaged`);
  const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
  check(start + entry.compressed <= bytes.length, `member ${name} is truncated`);
  const stored = bytes.subarray(start, start + entry.compressed);
  let data: Buffer;
  try {
    data = entry.method === 0 ? stored : inflateRawSync(stored);
  } catch (error) {
    throw new Error(`member ${name} does not inflate (${(error as Error).message})`);
  }
  check(data.length === entry.size, `member ${name} holds ${data.length} bytes, its directory entry says ${entry.size}`);
  check(crc32(data) === entry.crc, `member ${name} fails its CRC-32 check (damaged)`);
  return data;
}
