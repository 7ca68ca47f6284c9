import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './data-error';
import { readTarEntries, type TarEntry } from './tar-reader';
import { tarChunks } from './testing/tar-writer';
import { temporaryDirectory } from './testing/shared-data';

async function readAll(
  chunks: Iterable<Buffer>,
  keep?: (name: string) => boolean,
): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  for await (const entry of readTarEntries(source(), { source: 'test.tar', keep })) {
    entries.push(entry);
  }
  return entries;
}

/** Re-chunks a buffer into odd sizes, so headers and bodies straddle chunk boundaries. */
function* oddChunks(bytes: Buffer): Generator<Buffer> {
  for (let at = 0, size = 1; at < bytes.length; at += size, size = (size * 7 + 3) % 1000 + 1) {
    yield bytes.subarray(at, at + size);
  }
}

const members = [
  { name: 'dir/', data: () => Buffer.alloc(0), type: '5' as const },
  { name: 'dir/a.bin', data: () => Buffer.from('hello') },
  { name: 'dir/empty', data: () => Buffer.alloc(0) },
  { name: 'dir/block.bin', data: () => Buffer.alloc(1024, 7) },
];

test('reads names, types and contents whatever the chunking', async () => {
  const archive = Buffer.concat([...tarChunks(members)]);
  const entries = await readAll(oddChunks(archive));
  assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [
    ['dir/', 'directory', 0],
    ['dir/a.bin', 'file', 5],
    ['dir/empty', 'file', 0],
    ['dir/block.bin', 'file', 1024],
  ]);
  assert.equal(entries[1].data?.toString(), 'hello');
  assert.deepEqual(entries[3].data, Buffer.alloc(1024, 7));
});

test('files the caller does not keep are skipped without their data', async () => {
  const entries = await readAll(tarChunks(members), (name) => name.endsWith('a.bin'));
  assert.deepEqual(entries.map((e) => e.data !== undefined), [false, true, false, false]);
});

test('a damaged header is refused', async () => {
  const archive = Buffer.concat([...tarChunks(members)]);
  archive[512 + 10] ^= 0xff;
  const expected = /test\.tar: header of member 1 has a bad checksum/;
  await assert.rejects(readAll([archive]), (error: unknown) =>
    error instanceof DataError && expected.test(error.message),
  );
});

test('an archive cut short is refused as truncated', async () => {
  const archive = Buffer.concat([...tarChunks(members)]);
  await assert.rejects(readAll([archive.subarray(0, 512 * 2 + 3)]), (error: unknown) => {
    assert.ok(error instanceof DataError);
    assert.equal(error.kind, 'data-loss');
    assert.match(error.message, /test\.tar is truncated \(it ends inside member 'dir\/a\.bin'/);
    return true;
  });
});

test('archives written by GNU tar, long names included, in gnu and pax formats', async (t) => {
  const dir = temporaryDirectory('tar');
  t.after(() => dir.remove());
  const longName = `${'d'.repeat(60)}/${'f'.repeat(70)}.bin`;
  mkdirSync(join(dir.path, 'src', 'd'.repeat(60)), { recursive: true });
  writeFileSync(join(dir.path, 'src', longName), Buffer.alloc(3000, 5));
  writeFileSync(join(dir.path, 'src', 'short.txt'), 'short');
  for (const format of ['gnu', 'pax']) {
    const archive = join(dir.path, `${format}.tar`);
    const args = [`--format=${format}`, '-cf', archive, '-C', join(dir.path, 'src'), '.'];
    const result = spawnSync('tar', args);
    if (result.error || result.status !== 0) return t.skip('GNU tar is not available');
    const files = (await readAll([readFileSync(archive)])).filter((e) => e.type === 'file');
    const byName = new Map(files.map((e) => [e.name.replace(/^\.\//, ''), e.data]));
    assert.deepEqual(byName.get(longName), Buffer.alloc(3000, 5), format);
    assert.equal(byName.get('short.txt')?.toString(), 'short', format);
  }
});
