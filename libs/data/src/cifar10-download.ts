import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Cifar10File } from './cifar10-file';
import { CIFAR10_FILES, CIFAR10_RECORDS_PER_FILE } from './cifar10-format';
import { resolveCifar10Dir } from './cifar10-location';
import { DataError } from './data-error';
import { readTarEntries } from './tar-reader';

export const CIFAR10_ARCHIVE_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_ARCHIVE_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** The directory inside the archive that holds the files. */
export const CIFAR10_ARCHIVE_ROOT = 'cifar-10-batches-bin';

export interface DownloadCifar10Options {
  /** Where the files go; default resolveCifar10Dir(): $IPPRO_DATA_DIR or ~/.cache/ippro/cifar10. */
  readonly directory?: string;
  /** A mirror (or a local test server) serving the same archive. */
  readonly url?: string;
  /** Expected MD5 of the archive, hex. Default: the official archive's. */
  readonly md5?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

export interface DownloadCifar10Result {
  readonly directory: string;
  /** 'present': valid files were already there and nothing was fetched. */
  readonly status: 'present' | 'downloaded';
  readonly archiveBytes: number;
}

/**
 * Makes sure the CIFAR-10 binary files are in `directory`: downloads the official archive,
 * checks its MD5, extracts the files under temporary names, validates them and only then
 * renames them into place, so the directory never holds a partial file. Temporary files are
 * removed on every failure.
 */
export async function downloadCifar10(
  options: DownloadCifar10Options = {},
): Promise<DownloadCifar10Result> {
  const directory = options.directory ?? resolveCifar10Dir();
  if (cifar10FilesPresent(directory)) return { directory, status: 'present', archiveBytes: 0 };
  mkdirSync(directory, { recursive: true });
  const url = options.url ?? CIFAR10_ARCHIVE_URL;
  const archive = temporaryPath(directory, 'cifar-10-binary.tar.gz');
  const extracted = new Map<string, string>();
  try {
    const { bytes, md5 } = await fetchToFile(url, archive, options);
    const expected = (options.md5 ?? CIFAR10_ARCHIVE_MD5).toLowerCase();
    if (md5 !== expected) {
      throw new DataError(
        'data-loss',
        `archive from ${url} has MD5 ${md5}, expected ${expected}; ` +
          `nothing was written to ${directory}`,
      );
    }
    await extractCifar10(archive, url, directory, extracted);
    validateExtracted(extracted, url);
    for (const name of CIFAR10_FILES) {
      renameSync(extracted.get(name) as string, join(directory, name));
    }
    extracted.clear();
    return { directory, status: 'downloaded', archiveBytes: bytes };
  } finally {
    for (const path of [archive, ...extracted.values()]) rmSync(path, { force: true });
  }
}

/** True when every CIFAR-10 file is in `directory` and each .bin file has the standard size. */
export function cifar10FilesPresent(directory: string): boolean {
  return CIFAR10_FILES.every((name) => {
    const path = join(directory, name);
    if (!name.endsWith('.bin')) return existsSync(path);
    try {
      Cifar10File.open(path, { expectedRecords: CIFAR10_RECORDS_PER_FILE });
      return true;
    } catch {
      return false;
    }
  });
}

/** Hidden and unique per process, so concurrent downloads never write the same file. */
function temporaryPath(directory: string, name: string): string {
  return join(directory, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
}

async function fetchToFile(
  url: string,
  path: string,
  options: DownloadCifar10Options,
): Promise<{ bytes: number; md5: string }> {
  const response = await fetchResponse(url, options.signal);
  const declared = response.headers.get('content-length');
  const total = declared === null ? undefined : Number(declared);
  const hash = createHash('md5');
  const file = await open(path, 'w');
  let received = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      await file.write(chunk);
      received += chunk.byteLength;
      options.onProgress?.(received, total);
    }
  } catch (error) {
    const of = total === undefined ? '' : ` of ${total}`;
    throw new DataError(
      'unavailable',
      `download of ${url} failed after ${received} bytes${of}: ${describe(error)}`,
      { cause: error },
    );
  } finally {
    await file.close();
  }
  if (total !== undefined && received !== total) {
    throw new DataError(
      'data-loss',
      `download of ${url} was truncated: received ${received} of ${total} bytes`,
    );
  }
  return { bytes: received, md5: hash.digest('hex') };
}

async function fetchResponse(url: string, signal: AbortSignal | undefined): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (error) {
    throw new DataError('unavailable', `cannot fetch ${url}: ${describe(error)}`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    const status = `HTTP ${response.status} ${response.statusText}`;
    throw new DataError('unavailable', `cannot fetch ${url}: ${status}`);
  }
  return response;
}

/** Writes each wanted member to a temporary file in `directory`, recorded in `extracted`. */
async function extractCifar10(
  archive: string,
  url: string,
  directory: string,
  extracted: Map<string, string>,
): Promise<void> {
  const wanted = new Set(CIFAR10_FILES.map((name) => `${CIFAR10_ARCHIVE_ROOT}/${name}`));
  const source = `${archive} (from ${url})`;
  const tar = createReadStream(archive).pipe(createGunzip());
  try {
    for await (const entry of readTarEntries(tar, { source, keep: (name) => wanted.has(name) })) {
      if (!entry.data) continue;
      const name = entry.name.slice(CIFAR10_ARCHIVE_ROOT.length + 1);
      const path = temporaryPath(directory, name);
      extracted.set(name, path);
      const file = await open(path, 'w');
      try {
        await file.write(entry.data);
      } finally {
        await file.close();
      }
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError('data-loss', `cannot extract ${source}: ${describe(error)}`, {
      cause: error,
    });
  } finally {
    tar.destroy();
  }
}

function validateExtracted(extracted: ReadonlyMap<string, string>, url: string): void {
  for (const name of CIFAR10_FILES) {
    const path = extracted.get(name);
    if (path === undefined) {
      const member = `${CIFAR10_ARCHIVE_ROOT}/${name}`;
      throw new DataError('data-loss', `archive from ${url} has no ${member}`);
    }
    if (!name.endsWith('.bin')) continue;
    try {
      Cifar10File.open(path, { expectedRecords: CIFAR10_RECORDS_PER_FILE }).load();
    } catch (error) {
      throw new DataError(
        'data-loss',
        `archive from ${url}: ${CIFAR10_ARCHIVE_ROOT}/${name} is invalid: ${describe(error)}`,
        { cause: error },
      );
    }
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
