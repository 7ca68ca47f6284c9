import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { isArtifactError } from '../artifact-error';
import { artifactKeyOf } from '../artifact-key';
import { startSeaweedFs } from '../testing/seaweedfs/seaweedfs-server';
import type { SeaweedFs } from '../testing/seaweedfs/seaweedfs-server';
import { seaweedFsForTests } from '../testing/seaweedfs-fixture';
import { patternBytes } from '../testing/temp-dir';
import { MIN_PART_BYTES } from './multipart-upload';
import { S3ArtifactStore } from './s3-artifact-store';
import type { S3ArtifactStoreOptions } from './s3-artifact-store';

const weed = seaweedFsForTests();
const BUCKET = 'ippro-transfer';
/** Three parts of MIN_PART_BYTES, the last one short. */
const MULTIPART_SIZE = 2 * MIN_PART_BYTES + 654_321;
/** Where a damaging proxy flips a byte: past any request headers, inside the first body that long. */
const DAMAGE_OFFSET = 1_000_000;

let server: SeaweedFs;
let raw: S3Client;

interface LoopbackProxy {
  endpoint: string;
  /** TCP connections the client opened through the proxy. */
  connections(): number;
  /** Whether the proxy has flipped its byte. */
  damaged(): boolean;
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback in front of the S3 gateway. With `damage`, it flips one byte at
 * DAMAGE_OFFSET of the first connection whose request stream gets that far: a body damaged on
 * the way, after the client signed it.
 */
async function loopbackProxy(target: URL, damage: boolean): Promise<LoopbackProxy> {
  let connections = 0;
  let damaged = !damage;
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((socket) => {
    connections += 1;
    const upstream = connect(Number(target.port), target.hostname);
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.on('close', () => sockets.delete(end));
    }
    let forwarded = 0;
    socket.on('data', (chunk: Buffer) => {
      let out = chunk;
      if (!damaged && forwarded <= DAMAGE_OFFSET && forwarded + chunk.length > DAMAGE_OFFSET) {
        out = Buffer.from(chunk);
        out[DAMAGE_OFFSET - forwarded] = (out[DAMAGE_OFFSET - forwarded] ?? 0) ^ 0xff;
        damaged = true;
      }
      forwarded += chunk.length;
      if (!upstream.write(out)) socket.pause();
    });
    upstream.on('drain', () => socket.resume());
    socket.on('end', () => upstream.end());
    upstream.pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => connections,
    damaged: () => damaged,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

function storeOptions(endpoint: string, extra: Partial<S3ArtifactStoreOptions> = {}): S3ArtifactStoreOptions {
  return {
    bucket: BUCKET,
    prefix: 'transfer',
    endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    partBytes: MIN_PART_BYTES,
    ...extra,
  };
}

/** Runs `work` on a store reached through a loopback proxy. */
async function throughProxy<T>(damage: boolean, extra: Partial<S3ArtifactStoreOptions>, work: (store: S3ArtifactStore, proxy: LoopbackProxy) => Promise<T>): Promise<T> {
  const proxy = await loopbackProxy(new URL(server.endpoint), damage);
  try {
    const store = await S3ArtifactStore.open(storeOptions(proxy.endpoint, extra));
    try {
      return await work(store, proxy);
    } finally {
      store.close();
    }
  } finally {
    await proxy.close();
  }
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

describe('S3ArtifactStore transfers on SeaweedFS', { skip: weed.skip }, () => {
  it('sends the parts of a multipart upload over kept-alive connections, at most one per part in flight', async () => {
    await throughProxy(false, { concurrency: 2 }, async (store, proxy) => {
      for (const seed of [21, 22]) {
        const bytes = patternBytes(MULTIPART_SIZE, seed);
        const { key } = await store.put(bytes);
        assert.ok((await store.get(key)).equals(bytes));
      }
      // Two puts of three parts each, two in flight, with their HEAD, create, complete and get
      // requests: two connections, kept alive. With 'Expect: 100-continue' every part over 2 MB
      // went on a new one (five in all).
      assert.ok(proxy.connections() <= 3, `${proxy.connections()} connections`);
    });
  });

  it('has a part damaged on the way refused by the server (CRC32) and sent again: the artifact is stored intact', async () => {
    const retries: string[] = [];
    await throughProxy(true, { retry: { attempts: 3, baseDelayMs: 10 }, onRetry: (line) => retries.push(line) }, async (store, proxy) => {
      const bytes = patternBytes(MULTIPART_SIZE, 23);
      const { key } = await store.put(bytes);
      assert.equal(proxy.damaged(), true, 'the proxy damaged a part');
      assert.ok((await store.get(key)).equals(bytes));
    });
    assert.equal(retries.length, 1, retries.join('\n'));
    assert.match(retries[0] ?? '', /^UploadPart \d [0-9a-f]{64} on s3:\/\/ippro-transfer\/transfer: BadDigest \(HTTP 400\).*; retry 1 in \d+ ms$/);
  });

  it('has a small artifact damaged on the way refused and sent again', async () => {
    const retries: string[] = [];
    await throughProxy(true, { retry: { attempts: 3, baseDelayMs: 10 }, onRetry: (line) => retries.push(line) }, async (store, proxy) => {
      const bytes = patternBytes(DAMAGE_OFFSET + 500_000, 24);
      const { key } = await store.put(bytes);
      assert.equal(proxy.damaged(), true, 'the proxy damaged the object');
      assert.ok((await store.get(key)).equals(bytes));
    });
    assert.equal(retries.length, 1, retries.join('\n'));
    assert.match(retries[0] ?? '', /^PutObject [0-9a-f]{64} on .*: BadDigest \(HTTP 400\)/);
  });

  it('stores nothing when a damaged part cannot be sent again, and aborts the upload', async () => {
    const bytes = patternBytes(MULTIPART_SIZE, 25);
    const key = artifactKeyOf(bytes);
    await throughProxy(true, { retry: { attempts: 1 } }, async (store) => {
      await assert.rejects(store.put(bytes), (error: unknown) => {
        assert.ok(isArtifactError(error, 'unavailable'), String(error));
        assert.equal(error.key, key);
        assert.match(error.message, /BadDigest/);
        return true;
      });
      assert.equal(await store.has(key), false);
    });
    assert.equal(await openUploads(), 0, 'the failed upload was aborted');
  });
});
