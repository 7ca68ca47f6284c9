import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openCifar10 } from './cifar10-dataset';
import { CIFAR10_ARCHIVE_ROOT, cifar10FilesPresent, downloadCifar10 } from './cifar10-download';
import { CIFAR10_FILES } from './cifar10-format';
import { DataError } from './data-error';
import { writeCifar10Archive } from './testing/cifar10-archive';
import { serveFile } from './testing/loopback-server';
import { sharedCifar10Dir, temporaryDirectory } from './testing/shared-data';
import { tarChunks } from './testing/tar-writer';

const work = temporaryDirectory('download');
test.after(() => work.remove());

const realDir = sharedCifar10Dir();

/** A small archive without the CIFAR-10 members: enough to fail checksums and transfers. */
function writeSmallArchive(): { path: string; md5: string } {
  const path = join(work.path, 'small.tar.gz');
  const junk = randomBytes(1 << 20);
  const member = { name: `${CIFAR10_ARCHIVE_ROOT}/junk.bin`, data: () => junk };
  const tar = Buffer.concat([...tarChunks([member])]);
  writeFileSync(path, gzipSync(tar, { level: 1 }));
  return { path, md5: createHash('md5').update(readFileSync(path)).digest('hex') };
}

const small = writeSmallArchive();

function cacheDir(name: string): string {
  return join(work.path, 'cache', name);
}

const kind = realDir ? 'real' : 'synthetic';

test(`downloads, verifies and extracts the archive (${kind} files), then skips`, async () => {
  const archive = join(work.path, 'cifar-10-binary.tar.gz');
  const md5 = await writeCifar10Archive(archive, realDir);
  const server = await serveFile(archive);
  try {
    const directory = cacheDir('complete');
    let progressCalls = 0;
    const onProgress = (): void => {
      progressCalls++;
    };
    const result = await downloadCifar10({ directory, url: server.url, md5, onProgress });
    assert.equal(result.status, 'downloaded');
    assert.equal(result.archiveBytes, statSync(archive).size);
    assert.ok(progressCalls > 0);
    // Exactly the expected files: no temporary file, no readme, no archive left behind.
    assert.deepEqual(readdirSync(directory).sort(), [...CIFAR10_FILES].sort());
    if (realDir) {
      for (const name of ['data_batch_3.bin', 'batches.meta.txt']) {
        const original = readFileSync(join(realDir, name));
        assert.ok(readFileSync(join(directory, name)).equals(original), name);
      }
    }
    assert.equal(openCifar10(directory, 'train').size, 50_000);
    assert.equal(openCifar10(directory, 'test').size, 10_000);
    const again = await downloadCifar10({ directory, url: server.url, md5 });
    assert.equal(again.status, 'present');
    assert.equal(server.requests(), 1);
    // A damaged file no longer counts as present, so the next call downloads again.
    truncateSync(join(directory, 'test_batch.bin'), 1000);
    assert.equal(cifar10FilesPresent(directory), false);
  } finally {
    await server.close();
  }
});

function assertNothingWritten(directory: string): void {
  assert.deepEqual(readdirSync(directory), []);
}

test('a checksum mismatch leaves nothing in the cache', async () => {
  const server = await serveFile(small.path);
  try {
    const directory = cacheDir('mismatch');
    const download = downloadCifar10({ directory, url: server.url, md5: '0'.repeat(32) });
    await assert.rejects(download, (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.equal(error.kind, 'data-loss');
      assert.match(error.message, new RegExp(`has MD5 ${small.md5}, expected 0{32}`));
      assert.ok(error.message.includes(server.url));
      return true;
    });
    assertNothingWritten(directory);
  } finally {
    await server.close();
  }
});

test('a truncated download is refused and leaves nothing in the cache', async () => {
  const server = await serveFile(small.path, 'truncated');
  try {
    const directory = cacheDir('truncated');
    const download = downloadCifar10({ directory, url: server.url, md5: small.md5 });
    await assert.rejects(download, (error: unknown) => {
      assert.ok(error instanceof DataError, String(error));
      assert.ok(error.message.includes(server.url), error.message);
      assert.match(error.message, new RegExp(`of ${statSync(small.path).size}`));
      return true;
    });
    assertNothingWritten(directory);
  } finally {
    await server.close();
  }
});

test('an archive without the CIFAR-10 files is refused, leaving nothing', async () => {
  const server = await serveFile(small.path);
  try {
    const directory = cacheDir('incomplete');
    const download = downloadCifar10({ directory, url: server.url, md5: small.md5 });
    const missing = `has no ${CIFAR10_ARCHIVE_ROOT}/data_batch_1.bin`;
    await assert.rejects(download, (error: unknown) =>
      error instanceof DataError && error.message.includes(missing));
    assertNothingWritten(directory);
  } finally {
    await server.close();
  }
});

test('an unreachable server is an unavailable error naming the URL', async () => {
  const server = await serveFile(small.path);
  const url = server.url;
  await server.close();
  const directory = cacheDir('unreachable');
  await assert.rejects(downloadCifar10({ directory, url, md5: small.md5 }), (error: unknown) =>
    error instanceof DataError && error.kind === 'unavailable' && error.message.includes(url));
  assertNothingWritten(directory);
});
