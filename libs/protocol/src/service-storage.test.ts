import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { artifactKeyOf, ArtifactStore, CachedStorage, isArtifactError, storeBytes } from '@ippro/artifact-store';
import { makeTempDir, patternBytes } from '@ippro/artifact-store/testing';
import { ArtifactClient } from './artifact-client';
import { startArtifactServer } from './artifact-server';
import type { ArtifactServer } from './artifact-server';
import { ServiceStorage } from './service-storage';

let temp: { dir: string; cleanup: () => void };
let store: ArtifactStore;
let server: ArtifactServer;
let storage: ServiceStorage;

before(async () => {
  temp = makeTempDir();
  store = await ArtifactStore.open({ root: join(temp.dir, 'store'), fsync: false });
  server = await startArtifactServer({ store });
  storage = new ServiceStorage(new ArtifactClient(server.address, { chunkBytes: 64 * 1024 }));
});

after(async () => {
  storage.close();
  await server.close(500);
  temp.cleanup();
});

describe('ServiceStorage: an artifact service as an ArtifactStorage', () => {
  it('puts, gets, reads and stats through the service, into its store', async () => {
    const bytes = patternBytes(300_000, 3);
    const key = await storeBytes(storage, bytes);
    assert.equal(key, artifactKeyOf(bytes));
    assert.ok((await store.get(key)).equals(bytes), 'the service stored the bytes');
    assert.ok((await storage.get(key)).equals(bytes));
    const chunks: Buffer[] = [];
    for await (const chunk of storage.read(key)) chunks.push(chunk);
    assert.ok(Buffer.concat(chunks).equals(bytes));
    assert.deepEqual(await storage.stat(key), { key, size: bytes.length });
    assert.equal(await storage.has(key), true);
    assert.equal(await storage.has(artifactKeyOf(Buffer.from('never stored'))), false);
    assert.equal(storage.description, `artifact service ${server.address}`);
  });

  it('puts a stream with or without its declared key and size', async () => {
    const bytes = patternBytes(200_000, 4);
    const pieces = [bytes.subarray(0, 70_000), bytes.subarray(70_000)];
    const declared = await storage.putStream(pieces, { key: artifactKeyOf(bytes), size: bytes.length });
    const undeclared = await storage.putStream(pieces);
    assert.deepEqual([declared.key, declared.size], [artifactKeyOf(bytes), bytes.length]);
    assert.deepEqual([undeclared.key, undeclared.alreadyExisted], [declared.key, true]);
  });

  it('refuses bytes that do not match the declared key, and a delete, naming the artifact', async () => {
    const wrongKey = artifactKeyOf(Buffer.from('other bytes'));
    await assert.rejects(storage.put(Buffer.from('some bytes'), { key: wrongKey }), (error: unknown) => isArtifactError(error, 'data-loss'));
    await assert.rejects(storage.get(wrongKey), (error: unknown) => isArtifactError(error, 'not-found') && error.key === wrongKey);
    await assert.rejects(storage.delete(wrongKey), new RegExp(`cannot delete artifact ${wrongKey}: the artifact service offers no delete`));
    assert.deepEqual(await storage.corruptedCopies(wrongKey), []);
  });

  it('behind a CachedStorage: fetched once, then served from the cache when the service lost it', async () => {
    const cache = await ArtifactStore.open({ root: join(temp.dir, 'cache'), maxBytes: 16 * 1024 * 1024, fsync: false });
    const cached = new CachedStorage(storage, cache);
    const bytes = patternBytes(100_000, 5);
    const key = await storeBytes(cached, bytes);
    assert.equal(await cache.has(key), false, 'puts go to the service only');
    const [first, second] = await Promise.all([cached.get(key), cached.get(key)]);
    assert.ok(first.equals(bytes) && second.equals(bytes));
    assert.equal(await store.delete(key), true);
    assert.ok((await cached.get(key)).equals(bytes), 'served from the cache');
    assert.match(cached.description, new RegExp(`^artifact service ${server.address} \\(cached in `));
  });
});
