import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ArtifactError, isArtifactError } from './artifact-error';
import { artifactKeyOf } from './artifact-key';
import { ArtifactStore } from './artifact-store';
import { makeTempDir, patternBytes } from './testing/temp-dir';

async function withStore<T>(run: (store: ArtifactStore, root: string) => Promise<T>, maxBytes?: number): Promise<T> {
  const { dir, cleanup } = makeTempDir();
  try {
    const store = await ArtifactStore.open({ root: dir, fsync: false, ...(maxBytes === undefined ? {} : { maxBytes }) });
    return await run(store, dir);
  } finally {
    cleanup();
  }
}

function tmpFiles(root: string): string[] {
  return readdirSync(join(root, 'tmp'));
}

describe('ArtifactStore keys', () => {
  it('refuses anything but a sha256 hex key, naming the key', async () => {
    await withStore(async (store) => {
      const bad = ['../etc/passwd', 'A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(62)}/x`, ''];
      for (const key of bad) {
        await assert.rejects(store.get(key), (error: unknown) => {
          assert.ok(isArtifactError(error, 'invalid-key'), String(error));
          assert.match(error.message, /is not a sha256 hex digest/);
          assert.ok(error.message.includes(JSON.stringify(key)), error.message);
          return true;
        });
        await assert.rejects(store.stat(key), /not a sha256 hex digest/);
        await assert.rejects(store.put(Buffer.from('x'), { key }), /declared artifact key .* is not a sha256/);
        assert.throws(() => store.pathOf(key), ArtifactError);
      }
    });
  });
});

describe('ArtifactStore put and get', () => {
  it('round-trips bytes under their sha256 and reports an existing artifact', async () => {
    await withStore(async (store, root) => {
      const bytes = patternBytes(3000);
      const first = await store.put(bytes);
      assert.deepEqual(first, { key: artifactKeyOf(bytes), size: 3000, alreadyExisted: false });
      assert.deepEqual(await store.get(first.key), bytes);
      assert.deepEqual(await store.stat(first.key), { key: first.key, size: 3000 });
      assert.equal((await store.put(bytes)).alreadyExisted, true);
      assert.deepEqual(tmpFiles(root), []);
      const chunks: Buffer[] = [];
      for await (const chunk of store.read(first.key, 1024)) chunks.push(chunk);
      assert.deepEqual(chunks.map((chunk) => chunk.length), [1024, 1024, 952]);
      assert.deepEqual(Buffer.concat(chunks), bytes);
    });
  });

  it('reports an unknown key as not-found', async () => {
    await withStore(async (store) => {
      const key = artifactKeyOf(Buffer.from('absent'));
      await assert.rejects(store.get(key), (error: unknown) => isArtifactError(error, 'not-found') && error.message.includes(key));
      assert.equal(await store.stat(key), undefined);
      assert.equal(await store.delete(key), false);
    });
  });

  it('writes to a temporary file and renames it: a partial artifact is never visible', async () => {
    await withStore(async (store, root) => {
      const bytes = patternBytes(4096, 7);
      const key = artifactKeyOf(bytes);
      let release!: () => void;
      const paused = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reachedPause!: () => void;
      const atPause = new Promise<void>((resolve) => {
        reachedPause = resolve;
      });
      async function* source(): AsyncGenerator<Uint8Array> {
        yield bytes.subarray(0, 2048);
        reachedPause();
        await paused;
        throw new Error('writer crashed');
      }
      const put = store.putStream(source(), { key, size: bytes.length });
      await atPause;
      assert.equal(await store.stat(key), undefined, 'half-written artifact must not be visible');
      assert.equal(existsSync(store.pathOf(key)), false);
      assert.equal(tmpFiles(root).length, 1, 'the partial bytes live in tmp/');
      release();
      await assert.rejects(put, /writer crashed/);
      assert.deepEqual(tmpFiles(root), [], 'a failed write leaves no temporary file');
      assert.equal(await store.stat(key), undefined);
    });
  });

  it('refuses bytes that do not match the declared key or size and stores nothing', async () => {
    await withStore(async (store, root) => {
      const bytes = patternBytes(1000);
      const otherKey = artifactKeyOf(Buffer.from('other'));
      await assert.rejects(store.put(bytes, { key: otherKey }), (error: unknown) => {
        assert.ok(isArtifactError(error, 'data-loss'));
        assert.match(error.message, new RegExp(`not the declared key ${otherKey}`));
        return true;
      });
      await assert.rejects(store.putStream([bytes], { key: artifactKeyOf(bytes), size: 999 }), /more than its declared 999 bytes/);
      await assert.rejects(store.putStream([bytes], { key: artifactKeyOf(bytes), size: 1001 }), /has 1000 bytes, not the declared 1001/);
      assert.equal(await store.stat(otherKey), undefined);
      assert.equal(await store.stat(artifactKeyOf(bytes)), undefined);
      assert.deepEqual(tmpFiles(root), []);
      assert.deepEqual(store.keys(), []);
    });
  });

  it('detects a corrupted file, names the key, never returns it, and moves it aside', async () => {
    await withStore(async (store, root) => {
      const bytes = patternBytes(5000, 3);
      const { key } = await store.put(bytes);
      const damaged = Buffer.from(bytes);
      damaged[1234] = (damaged[1234] ?? 0) ^ 0xff;
      writeFileSync(store.pathOf(key), damaged);
      await assert.rejects(store.get(key), (error: unknown) => {
        assert.ok(isArtifactError(error, 'data-loss'), String(error));
        assert.equal(error.key, key);
        assert.match(error.message, new RegExp(`artifact ${key} is corrupted`));
        return true;
      });
      assert.equal(await store.stat(key), undefined, 'a corrupted artifact is no longer served');
      assert.equal(readdirSync(join(root, 'corrupt')).length, 1);
      // Streaming reads detect it too.
      await store.put(bytes);
      writeFileSync(store.pathOf(key), damaged);
      await assert.rejects(async () => {
        for await (const chunk of store.read(key, 1024)) assert.ok(chunk.length > 0);
      }, /is corrupted/);
      // A new put restores it.
      await store.put(bytes);
      assert.deepEqual(await store.get(key), bytes);
    });
  });

  it('survives concurrent puts of the same key: one file, right bytes, counted once', async () => {
    await withStore(async (store, root) => {
      const bytes = patternBytes(256 * 1024, 11);
      async function* slowly(): AsyncGenerator<Uint8Array> {
        for (let offset = 0; offset < bytes.length; offset += 16 * 1024) {
          await new Promise((resolve) => setImmediate(resolve));
          yield bytes.subarray(offset, offset + 16 * 1024);
        }
      }
      const key = artifactKeyOf(bytes);
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.putStream(slowly(), { key, size: bytes.length })));
      assert.ok(outcomes.every((outcome) => outcome.key === key && outcome.size === bytes.length));
      assert.deepEqual(readFileSync(store.pathOf(key)), bytes);
      assert.deepEqual(store.keys(), [key]);
      assert.equal(store.totalBytes, bytes.length);
      assert.deepEqual(tmpFiles(root), []);
    });
  });
});

describe('ArtifactStore as an LRU cache (maxBytes)', () => {
  it('evicts the least recently used artifacts and stays within the bound', async () => {
    await withStore(async (store) => {
      const [a, b, c, d] = [1, 2, 3, 4].map((seed) => patternBytes(100, seed)) as [Buffer, Buffer, Buffer, Buffer];
      const ka = (await store.put(a)).key;
      const kb = (await store.put(b)).key;
      const kc = (await store.put(c)).key;
      assert.deepEqual(store.keys(), [ka, kb, kc]);
      await store.get(ka); // a becomes most recent: b is now least recently used
      assert.deepEqual(store.keys(), [kb, kc, ka]);
      const kd = (await store.put(d)).key;
      assert.deepEqual(store.keys(), [kc, ka, kd]);
      assert.equal(store.totalBytes, 300);
      assert.equal(existsSync(store.pathOf(kb)), false, 'the evicted file is deleted');
      await assert.rejects(store.get(kb), (error: unknown) => isArtifactError(error, 'not-found'));
      // A bigger artifact evicts as many as needed, oldest first.
      const big = patternBytes(250, 5);
      const kbig = (await store.put(big)).key;
      assert.deepEqual(store.keys(), [kbig]);
      assert.ok(store.totalBytes <= 300);
    }, 300);
  });

  it('refuses an artifact larger than the whole cache, storing nothing', async () => {
    await withStore(async (store, root) => {
      const kept = (await store.put(patternBytes(50))).key;
      await assert.rejects(store.put(patternBytes(301)), (error: unknown) => {
        assert.ok(isArtifactError(error, 'too-large'));
        assert.match(error.message, /exceeds the store's maxBytes 300/);
        return true;
      });
      async function* unknownSize(): AsyncGenerator<Uint8Array> {
        yield patternBytes(200);
        yield patternBytes(200);
      }
      await assert.rejects(store.putStream(unknownSize()), /maxBytes 300/);
      assert.deepEqual(store.keys(), [kept]);
      assert.deepEqual(tmpFiles(root), []);
    }, 300);
  });

  it('keeps recency across a restart through modification times', async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const first = await ArtifactStore.open({ root: dir, fsync: false });
      const keys: string[] = [];
      for (let seed = 1; seed <= 3; seed += 1) {
        keys.push((await first.put(patternBytes(100, seed))).key);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const reopened = await ArtifactStore.open({ root: dir, fsync: false, maxBytes: 200 });
      assert.deepEqual(reopened.keys(), keys.slice(1), 'the oldest artifact is evicted on open');
      assert.equal(reopened.totalBytes, 200);
    } finally {
      cleanup();
    }
  });
});
