/** A minimal ustar writer, for building test archives (the library only reads tar). */

const BLOCK = 512;

export interface TarSource {
  readonly name: string;
  /** Called when the member is written, so large members are not all in memory at once. */
  readonly data: () => Buffer;
  readonly type?: '0' | '5';
}

export function tarHeader(name: string, size: number, type: '0' | '5' = '0'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`test tar writer: name too long: ${name}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\0' + '00', 257, 'latin1');
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

/** The archive as a sequence of chunks, ending with the two zero blocks. */
export function* tarChunks(sources: readonly TarSource[]): Generator<Buffer> {
  for (const source of sources) {
    const data = source.type === '5' ? Buffer.alloc(0) : source.data();
    yield tarHeader(source.name, data.length, source.type);
    yield data;
    const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(2 * BLOCK);
}
