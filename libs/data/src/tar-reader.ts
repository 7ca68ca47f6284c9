import { DataError } from './data-error';

/** One archive member. `data` is present only for regular files the caller chose to keep. */
export interface TarEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'other';
  readonly size: number;
  readonly data?: Buffer;
}

export interface TarReadOptions {
  /** Names the archive in errors. */
  readonly source: string;
  /** Which regular files to buffer; the others are skipped. Default: all. */
  readonly keep?: (name: string) => boolean;
}

const BLOCK = 512;

/**
 * Reads a tar stream (POSIX ustar, with GNU long names and pax `path` records) entry by entry.
 * Each kept file is buffered whole, which suits archives of a few tens of MB per member.
 */
export async function* readTarEntries(
  chunks: AsyncIterable<Uint8Array>,
  options: TarReadOptions,
): AsyncGenerator<TarEntry> {
  const queue = new ByteQueue();
  const reader = new TarParser(options);
  for await (const chunk of chunks) {
    queue.push(chunk);
    for (const entry of reader.drain(queue)) yield entry;
    if (reader.finished) return;
  }
  if (!reader.finished) {
    throw new DataError(
      'data-loss',
      `tar archive ${options.source} is truncated ` +
        `(it ends inside ${reader.position()} without the end-of-archive marker)`,
    );
  }
}

/** Chunks in arrival order, taken from the front without copying more than asked for. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.length += chunk.byteLength;
  }

  take(count: number): Buffer {
    const parts: Buffer[] = [];
    let needed = count;
    while (needed > 0) {
      const head = this.chunks[0];
      if (head.length <= needed) {
        parts.push(head);
        this.chunks.shift();
        needed -= head.length;
      } else {
        parts.push(head.subarray(0, needed));
        this.chunks[0] = head.subarray(needed);
        needed = 0;
      }
    }
    this.length -= count;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, count);
  }
}

interface PendingBody {
  header: ParsedHeader;
  paddedSize: number;
}

interface ParsedHeader {
  name: string;
  size: number;
  typeFlag: string;
}

class TarParser {
  finished = false;
  private pending: PendingBody | undefined;
  private nextName: string | undefined;
  private entryCount = 0;

  constructor(private readonly options: TarReadOptions) {}

  position(): string {
    if (this.pending) return `member '${this.pending.header.name}'`;
    return `the header of member ${this.entryCount}`;
  }

  *drain(queue: ByteQueue): Generator<TarEntry> {
    while (!this.finished) {
      if (!this.pending) {
        if (queue.length < BLOCK) return;
        const block = queue.take(BLOCK);
        if (isZeroBlock(block)) {
          this.finished = true;
          return;
        }
        const header = parseHeader(block, this.options.source, this.entryCount);
        this.pending = { header, paddedSize: Math.ceil(header.size / BLOCK) * BLOCK };
      }
      if (queue.length < this.pending.paddedSize) return;
      const { header, paddedSize } = this.pending;
      const body = queue.take(paddedSize).subarray(0, header.size);
      this.pending = undefined;
      const entry = this.finishEntry(header, body);
      if (entry) yield entry;
    }
  }

  /** Metadata members (long names, pax records) only rename the member that follows them. */
  private finishEntry(header: ParsedHeader, body: Buffer): TarEntry | undefined {
    if (header.typeFlag === 'L') {
      this.nextName = body.toString('utf8').replace(/\0+$/, '');
      return undefined;
    }
    if (header.typeFlag === 'x') {
      this.nextName = paxPath(body) ?? this.nextName;
      return undefined;
    }
    if (header.typeFlag === 'g') return undefined;
    const name = this.nextName ?? header.name;
    this.nextName = undefined;
    this.entryCount++;
    const type = typeOf(header.typeFlag);
    const keep = type === 'file' && (this.options.keep?.(name) ?? true);
    const entry = { name, type, size: header.size };
    // No copy: the body is a fresh concatenation or a chunk nobody else holds.
    return keep ? { ...entry, data: body } : entry;
  }
}

function typeOf(flag: string): TarEntry['type'] {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  return flag === '5' ? 'directory' : 'other';
}

function isZeroBlock(block: Buffer): boolean {
  return block.every((byte) => byte === 0);
}

function parseHeader(block: Buffer, source: string, index: number): ParsedHeader {
  const stored = parseOctal(block.subarray(148, 156));
  if (stored !== headerChecksum(block)) {
    throw new DataError(
      'data-loss',
      `tar archive ${source}: header of member ${index} has a bad checksum ` +
        `(corrupt or not a tar archive)`,
    );
  }
  const name = cString(block.subarray(0, 100));
  const isUstar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(block.subarray(345, 500)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: parseSize(block.subarray(124, 136)),
    typeFlag: String.fromCharCode(block[156]),
  };
}

/** Sum of the header's bytes with the checksum field itself counted as spaces. */
function headerChecksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i];
  return sum;
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function parseOctal(field: Buffer): number {
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** GNU tar stores sizes of 8 GiB and more in base 256, flagged by the top bit. */
function parseSize(field: Buffer): number {
  if ((field[0] & 0x80) === 0) return parseOctal(field);
  let size = field[0] & 0x7f;
  for (let i = 1; i < field.length; i++) size = size * 256 + field[i];
  return size;
}

/** The `path` record of a pax extended header: records are "<length> <key>=<value>\n". */
function paxPath(body: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = parseInt(body.subarray(at, space).toString('latin1'), 10);
    if (space < 0 || !(length > 0)) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (record.slice(0, equals) === 'path') path = record.slice(equals + 1);
    at += length;
  }
  return path;
}
