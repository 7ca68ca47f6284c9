import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CIFAR10_FILES, CIFAR10_RECORDS_PER_FILE } from '../cifar10-format';
import { CIFAR10_ARCHIVE_ROOT } from '../cifar10-download';
import { cifar10Bytes } from './cifar10-bytes';
import { tarChunks, type TarSource } from './tar-writer';

/** Labels 0..9 repeating, with a pixel pattern that gzip squeezes well. */
function syntheticMember(name: string): Buffer {
  if (!name.endsWith('.bin')) return Buffer.from('airplane\nautomobile\n');
  const labels = Array.from({ length: CIFAR10_RECORDS_PER_FILE }, (_, r) => r % 10);
  return cifar10Bytes(labels, (_record, p) => (p >> 5) & 0xff);
}

/**
 * Writes a tar.gz laid out like the official archive, from the real files in `realDir` or,
 * without them, synthetic files of the standard size. Returns its MD5.
 */
export async function writeCifar10Archive(
  path: string,
  realDir: string | undefined,
): Promise<string> {
  const sources: TarSource[] = [
    { name: `${CIFAR10_ARCHIVE_ROOT}/`, data: () => Buffer.alloc(0), type: '5' },
    { name: `${CIFAR10_ARCHIVE_ROOT}/readme.html`, data: () => Buffer.from('<html></html>') },
    ...CIFAR10_FILES.map((name) => ({
      name: `${CIFAR10_ARCHIVE_ROOT}/${name}`,
      data: () => (realDir ? readFileSync(join(realDir, name)) : syntheticMember(name)),
    })),
  ];
  // Stored (level 0) for the 180 MB of real files: a valid gzip in a fraction of the time.
  const gzip = createGzip({ level: realDir ? 0 : 1 });
  await pipeline(Readable.from(tarChunks(sources)), gzip, createWriteStream(path));
  return createHash('md5').update(readFileSync(path)).digest('hex');
}
