import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { artifactKeyOf, ArtifactStore, CachedStorage, isArtifactError, MIN_PART_BYTES, S3ArtifactStore } from '@ippro/artifact-store';
import type { S3ArtifactStoreOptions } from '@ippro/artifact-store';
import { makeTempDir, patternBytes, seaweedFsForTests, startSeaweedFs } from '@ippro/artifact-store/testing';
import type { SeaweedFs } from '@ippro/artifact-store/testing';
import { ArtifactClient } from './artifact-client';
import { startArtifactServer } from './artifact-server';

const weed = seaweedFsForTests();
const BUCKET = 'ippro-artifacts';
/** Larger than two parts, not a multiple of the part size. */
const MULTIPART_SIZE = 2 * MIN_PART_BYTES + 123_457;

let server: SeaweedFs;
let raw: S3Client;

function storeOptions(extra: Partial<S3ArtifactStoreOptions> = {}): S3ArtifactStoreOptions {
  return {
    bucket: BUCKET,
    prefix: 'runs/test',
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    partBytes: MIN_PART_BYTES,
    ...extra,
  };
}

async function withStore<T>(run: (store: S3ArtifactStore) => Promise<T>, extra: Partial<S3ArtifactStoreOptions> = {}): Promise<T> {
  const store = await S3ArtifactStore.open(storeOptions(extra));
  try {
    return await run(store);
  } finally {
    store.close();
  }
}

/** Odd-sized chunks, so that parts are assembled across chunk boundaries. */
function* chunksOf(bytes: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of source) pieces.push(piece);
  return Buffer.concat(pieces);
}

async function openUploads(): Promise<number> {
  const listed = await raw.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return listed.Uploads?.length ?? 0;
}

before(async () => {
  if (weed.skip !== false) return;
  server = await startSeaweedFs({ buckets: [BUCKET], ...(weed.weedPath === undefined ? {} : { weedPath: weed.weedPath }) });
  raw = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
});

after(async () => {
  raw?.destroy();
  await server?.stop();
});

describe('S3ArtifactStore on SeaweedFS', { skip: weed.skip }, () => {
  it('round-trips a small artifact under <prefix>/<sha256> and reports an existing one', async () => {
    await withStore(async (store) => {
      const bytes = patternBytes(3000, 7);
      const key = artifactKeyOf(bytes);
      assert.equal(store.objectKeyOf(key), `runs/test/${key}`);
      assert.deepEqual(await store.put(bytes), { key, size: 3000, alreadyExisted: false });
      assert.deepEqual(await store.get(key), bytes);
      assert.deepEqual(await store.stat(key), { key, size: 3000 });
      assert.equal((await store.put(bytes, { key })).alreadyExisted, true);
      const chunks: Buffer[] = [];
      for await (const chunk of store.read(key, 1024)) chunks.push(chunk);
      assert.deepEqual(chunks.map((chunk) => chunk.length), [1024, 1024, 952]);
      assert.equal(await store.delete(key), true);
      assert.equal(await store.has(key), false);
      assert.equal(await store.delete(key), false);
    });
  });

  it('uploads an artifact larger than a part in parts: from bytes, from a declared stream and from an undeclared one', async () => {
    await withStore(async (store) => {
      const bytes = patternBytes(MULTIPART_SIZE, 11);
      const key = artifactKeyOf(bytes);
      assert.deepEqual(await store.put(bytes), { key, size: MULTIPART_SIZE, alreadyExisted: false });
      assert.ok((await store.get(key)).equals(bytes));
      assert.ok((await collect(store.read(key))).equals(bytes));
      await store.delete(key);

      const streamed = await store.putStream(chunksOf(bytes, 777_777), { key, size: bytes.length });
      assert.deepEqual(streamed, { key, size: MULTIPART_SIZE, alreadyExisted: false });
      assert.ok((await store.get(key)).equals(bytes));
      await store.delete(key);

      const staged = await store.putStream(chunksOf(bytes, 1_000_003));
      assert.deepEqual(staged, { key, size: MULTIPART_SIZE, alreadyExisted: false });
      assert.ok((await store.get(key)).equals(bytes));
      assert.equal(await openUploads(), 0, 'every multipart upload was completed');
    });
  });

  it('stores nothing when a multipart stream does not match its declared key or size, and aborts the upload', async () => {
    await withStore(async (store) => {
      const bytes = patternBytes(MULTIPART_SIZE, 12);
      const wrongKey = artifactKeyOf(Buffer.from('something else'));
      await assert.rejects(store.putStream(chunksOf(bytes, 1 << 20), { key: wrongKey }), (error: unknown) => {
        assert.ok(isArtifactError(error, 'data-loss'), String(error));
        assert.match(error.message, new RegExp(`not the declared key ${wrongKey}; nothing stored`));
        return true;
      });
      assert.equal(await store.has(wrongKey), false);
      const key = artifactKeyOf(bytes);
      await assert.rejects(store.putStream(chunksOf(bytes, 1 << 20), { key, size: MULTIPART_SIZE - 1 }), /has more than its declared/);
      assert.equal(await store.has(key), false);
      assert.equal(await openUploads(), 0, 'the failed uploads were aborted');
    });
  });

  it('detects a corrupted object on get and read, names the key, and a put of the right bytes repairs it', async () => {
    await withStore(async (store) => {
      for (const size of [4096, MULTIPART_SIZE]) {
        const bytes = patternBytes(size, 13);
        const key = artifactKeyOf(bytes);
        await store.put(bytes);
        const tampered = Buffer.from(bytes);
        tampered[size >> 1] = (tampered[size >> 1] ?? 0) ^ 0xff;
        await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: store.objectKeyOf(key), Body: tampered }));
        await assert.rejects(store.get(key), (error: unknown) => {
          assert.ok(isArtifactError(error, 'data-loss'), String(error));
          assert.equal(error.key, key);
          assert.match(error.message, new RegExp(`artifact ${key} in s3://${BUCKET}/runs/test is corrupted`));
          assert.match(error.message, new RegExp(`sha256 ${artifactKeyOf(tampered)}`));
          return true;
        });
        await assert.rejects(collect(store.read(key, 65536)), (error: unknown) => isArtifactError(error, 'data-loss') && error.key === key);
        assert.equal((await store.put(bytes)).alreadyExisted, true);
        assert.ok((await store.get(key)).equals(bytes));
      }
    });
  });

  it('reports a missing artifact as NOT_FOUND naming the key', async () => {
    await withStore(async (store) => {
      const key = artifactKeyOf(Buffer.from('never stored'));
      for (const attempt of [() => store.get(key), () => collect(store.read(key))]) {
        await assert.rejects(attempt(), (error: unknown) => {
          assert.ok(isArtifactError(error, 'not-found'), String(error));
          assert.equal(error.code, 5);
          assert.equal(error.message, `artifact ${key} not found in s3://${BUCKET}/runs/test`);
          return true;
        });
      }
      assert.equal(await store.stat(key), undefined);
      await assert.rejects(store.get('../../etc/passwd'), (error: unknown) => isArtifactError(error, 'invalid-key'));
    });
  });

  it('says clearly when the bucket is missing or the credentials are wrong', async () => {
    await assert.rejects(S3ArtifactStore.open(storeOptions({ bucket: 'no-such-bucket' })), (error: unknown) => {
      assert.ok(isArtifactError(error, 'misconfigured'), String(error));
      assert.equal(error.code, 9);
      assert.match(error.message, /the bucket 'no-such-bucket' does not exist at http:\/\/127\.0\.0\.1:\d+/);
      return true;
    });
    await assert.rejects(S3ArtifactStore.open(storeOptions({ credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' } })), (error: unknown) => {
      assert.ok(isArtifactError(error, 'misconfigured'), String(error));
      assert.match(error.message, /rejected the S3 credentials .*check the access key/);
      return true;
    });
    const unchecked = await S3ArtifactStore.open(storeOptions({ credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' }, checkBucket: false }));
    try {
      await assert.rejects(unchecked.get(artifactKeyOf(Buffer.from('x'))), /rejected the S3 credentials \(InvalidAccessKeyId \(HTTP 403\)/);
    } finally {
      unchecked.close();
    }
  });

  it('retries requests whose connections are reset, with backoff, and then succeeds', async () => {
    const proxy = await flakyProxy(new URL(server.endpoint), 3);
    const retries: string[] = [];
    try {
      await withStore(
        async (store) => {
          const bytes = patternBytes(MULTIPART_SIZE, 14);
          const { key } = await store.put(bytes);
          assert.ok((await store.get(key)).equals(bytes));
        },
        { endpoint: proxy.endpoint, retry: { attempts: 6, baseDelayMs: 20 }, onRetry: (line) => retries.push(line) },
      );
    } finally {
      await proxy.close();
    }
    assert.ok(retries.length >= 3, retries.join('\n'));
    assert.match(retries[0] ?? '', /HeadBucket on s3:\/\/ippro-artifacts\/runs\/test: .*; retry 1 in \d+ ms/);
    await assert.rejects(
      withStore(async () => undefined, { endpoint: 'http://127.0.0.1:9', retry: { attempts: 2, baseDelayMs: 10 } }),
      (error: unknown) => isArtifactError(error, 'unavailable') && /HeadBucket s3:\/\/ippro-artifacts\/runs\/test: http:\/\/127\.0\.0\.1:9 did not answer/.test(error.message),
    );
  });

  it('serves the gRPC artifact service over the bucket', async () => {
    await withStore(async (store) => {
      const artifactServer = await startArtifactServer({ store });
      const client = new ArtifactClient(artifactServer.address);
      try {
        const bytes = patternBytes(MULTIPART_SIZE, 15);
        const put = await client.putArtifact(bytes);
        assert.equal(put.key, artifactKeyOf(bytes));
        assert.ok((await store.get(put.key)).equals(bytes));
        assert.ok((await client.getArtifact(put.key)).equals(bytes));
        assert.equal(await client.statArtifact(artifactKeyOf(Buffer.from('absent'))), null);
      } finally {
        client.close();
        await artifactServer.close(500);
      }
    });
  });

  it('reads through a local cache: fetched once, then served locally', async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      await withStore(async (store) => {
        const cache = await ArtifactStore.open({ root: dir, maxBytes: 64 * 1024 * 1024, fsync: false });
        const cached = new CachedStorage(store, cache);
        const bytes = patternBytes(100_000, 16);
        const { key } = await cached.put(bytes);
        assert.equal(await cache.has(key), false, 'puts are not cached');
        const [first, second] = await Promise.all([cached.get(key), cached.get(key)]);
        assert.ok(first.equals(bytes) && second.equals(bytes));
        assert.equal(await cache.has(key), true);
        await store.delete(key);
        assert.ok((await cached.get(key)).equals(bytes), 'served from the cache');
        assert.match(cached.description, /^s3:\/\/ippro-artifacts\/runs\/test \(cached in /);
      });
    } finally {
      cleanup();
    }
  });
});

/** A TCP proxy on loopback that resets its first `failures` connections, then forwards. */
async function flakyProxy(target: URL, failures: number): Promise<{ endpoint: string; close: () => Promise<void> }> {
  let refused = 0;
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (refused < failures) {
      refused += 1;
      socket.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
