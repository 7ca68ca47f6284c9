import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { artifactKeyOf, ArtifactStore, isArtifactError } from '@ippro/artifact-store';
import { makeTempDir, patternBytes } from '@ippro/artifact-store/testing';
import { ArtifactClient } from './artifact-client';
import { ARTIFACT_SERVICE_NAME, HEALTH_SERVICE_NAME, startArtifactServer } from './artifact-server';
import type { ArtifactServer } from './artifact-server';
import type { ArtifactServiceClient } from './generated/ippro/v1/ArtifactService';
import type { PutResult__Output } from './generated/ippro/v1/PutResult';
import { DEFAULT_MAX_ARTIFACT_BYTES, MAX_MESSAGE_BYTES } from './limits';
import { loadProtocol } from './proto-loading';
import { ServiceStorage } from './service-storage';

const MiB = 1024 * 1024;

interface Fixture {
  store: ArtifactStore;
  server: ArtifactServer;
  client: ArtifactClient;
  root: string;
  cleanup: () => void;
}

let fixture: Fixture;

before(async () => {
  const { dir, cleanup } = makeTempDir();
  const store = await ArtifactStore.open({ root: dir, fsync: false });
  const server = await startArtifactServer({ store, maxArtifactBytes: 16 * MiB });
  const client = new ArtifactClient(server.address, { callTimeoutMs: 30_000 });
  fixture = { store, server, client, root: dir, cleanup };
});

after(async () => {
  fixture.client.close();
  await fixture.server.close(1000);
  fixture.cleanup();
});

/** The server still answers a fresh put/get after whatever the test did. */
async function assertServing(): Promise<void> {
  const bytes = Buffer.from(`still serving ${Math.random()}`);
  const { key } = await fixture.client.putArtifact(bytes);
  assert.deepEqual(await fixture.client.getArtifact(key), bytes);
}

function statusOf(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

/** A Put through the generated client, sending exactly the given messages. */
function rawPut(client: ArtifactServiceClient, messages: object[]): Promise<PutResult__Output | undefined> {
  return new Promise((resolve, reject) => {
    const call = client.Put((error, result) => (error ? reject(error) : resolve(result)));
    for (const message of messages) call.write(message);
    call.end();
  });
}

function rawGetError(key: string): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    const call = fixture.client.raw.Get({ key });
    call.on('data', () => undefined);
    call.on('error', resolve);
    call.on('end', () => reject(new Error('Get ended without an error')));
  });
}

describe('ArtifactService round trips', () => {
  it('puts, stats and gets a small artifact', async () => {
    const bytes = Buffer.from('a small model');
    const put = await fixture.client.putArtifact(bytes);
    assert.deepEqual(put, { key: artifactKeyOf(bytes), size: bytes.length, alreadyExisted: false });
    assert.deepEqual(await fixture.client.statArtifact(put.key), { key: put.key, size: bytes.length });
    assert.deepEqual(await fixture.client.getArtifact(put.key), bytes);
    assert.equal((await fixture.client.putArtifact(bytes)).alreadyExisted, true);
  });

  it('round-trips an empty artifact', async () => {
    const put = await fixture.client.putArtifact(Buffer.alloc(0));
    assert.equal(put.size, 0);
    assert.deepEqual(await fixture.client.getArtifact(put.key), Buffer.alloc(0));
  });

  it('puts and gets a 5 MiB artifact in 1 MiB chunks', async () => {
    const bytes = patternBytes(5 * MiB + 123, 42);
    const put = await fixture.client.putArtifact(bytes);
    assert.equal(put.size, bytes.length);
    const chunks: number[] = [];
    for await (const chunk of fixture.client.getArtifactChunks(put.key)) chunks.push(chunk.length);
    assert.deepEqual(chunks, [MiB, MiB, MiB, MiB, MiB, 123]);
    assert.ok((await fixture.client.getArtifact(put.key)).equals(bytes));
  });

  it('puts a stream (a file) with its declared key and size', async () => {
    const bytes = patternBytes(3 * MiB + 5, 9);
    const path = join(fixture.root, 'upload.bin');
    writeFileSync(path, bytes);
    const put = await fixture.client.putArtifactFile(path);
    assert.deepEqual(put, { key: artifactKeyOf(bytes), size: bytes.length, alreadyExisted: false });
    assert.ok((await fixture.store.get(put.key)).equals(bytes));
  });
});

describe('ArtifactService errors, and the server keeps serving after each', () => {
  it('NOT_FOUND for an unknown key', async () => {
    const key = artifactKeyOf(Buffer.from('never stored'));
    await assert.rejects(fixture.client.getArtifact(key), (error: unknown) => {
      assert.ok(isArtifactError(error, 'not-found'));
      assert.equal(error.code, grpc.status.NOT_FOUND);
      assert.ok(error.message.includes(key));
      return true;
    });
    assert.equal(await fixture.client.statArtifact(key), null);
    const statError = await new Promise<grpc.ServiceError | null>((resolve) => fixture.client.raw.Stat({ key }, (error) => resolve(error)));
    assert.equal(statError?.code, grpc.status.NOT_FOUND);
    await assertServing();
  });

  it('DATA_LOSS for bytes that do not match the declared key; nothing is stored', async () => {
    const declared = artifactKeyOf(Buffer.from('what the client claims'));
    const bytes = patternBytes(2 * MiB, 5);
    await assert.rejects(fixture.client.putArtifact([bytes], { key: declared, size: bytes.length }), (error: unknown) => {
      assert.equal(statusOf(error), grpc.status.DATA_LOSS);
      assert.ok(isArtifactError(error, 'data-loss'));
      assert.match(error.message, new RegExp(`not the declared key ${declared}`));
      return true;
    });
    assert.equal(await fixture.client.statArtifact(declared), null);
    assert.equal(await fixture.client.statArtifact(artifactKeyOf(bytes)), null);
    assert.deepEqual(readdirSync(join(fixture.root, 'tmp')), []);
    // Fewer bytes than declared is data loss too.
    const short = Buffer.from('short');
    await assert.rejects(
      rawPut(fixture.client.raw, [{ header: { key: artifactKeyOf(short), size: 10 } }, { data: short }]),
      (error: unknown) => statusOf(error) === grpc.status.DATA_LOSS,
    );
    await assertServing();
  });

  it('DATA_LOSS for an artifact corrupted on the server’s disk, never returned', async () => {
    const bytes = patternBytes(MiB + 10, 77);
    const { key } = await fixture.client.putArtifact(bytes);
    const damaged = Buffer.from(bytes);
    damaged[MiB + 3] = (damaged[MiB + 3] ?? 0) ^ 1;
    writeFileSync(fixture.store.pathOf(key), damaged);
    await assert.rejects(fixture.client.getArtifact(key), (error: unknown) => {
      assert.equal(statusOf(error), grpc.status.DATA_LOSS);
      assert.ok(isArtifactError(error) && error.message.includes(key), String(error));
      return true;
    });
    assert.equal(await fixture.client.statArtifact(key), null, 'the corrupted artifact was taken out');
    await fixture.client.putArtifact(bytes);
    assert.ok((await fixture.client.getArtifact(key)).equals(bytes));
    await assertServing();
  });

  it('a Put cancelled by its client mid-stream stores nothing', async () => {
    const bytes = patternBytes(3 * MiB, 21);
    const key = artifactKeyOf(bytes);
    const outcome = new Promise<number | undefined>((resolve) => {
      const call = fixture.client.raw.Put((error) => resolve(error?.code));
      call.write({ header: { key, size: bytes.length } });
      call.write({ data: bytes.subarray(0, MiB) });
      setTimeout(() => call.cancel(), 100);
    });
    assert.equal(await outcome, grpc.status.CANCELLED);
    for (let wait = 0; wait < 50 && readdirSync(join(fixture.root, 'tmp')).length > 0; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(readdirSync(join(fixture.root, 'tmp')), []);
    assert.equal(await fixture.client.statArtifact(key), null);
    await assertServing();
  });

  it('INVALID_ARGUMENT for a key that is not a sha256 digest', async () => {
    for (const key of ['../etc/passwd', 'ABCDEF', `${'0'.repeat(63)}g`]) {
      const getError = await rawGetError(key);
      assert.equal(getError.code, grpc.status.INVALID_ARGUMENT);
      assert.match(getError.details, /not a sha256 hex digest/);
      const statError = await new Promise<grpc.ServiceError | null>((resolve) => fixture.client.raw.Stat({ key }, (error) => resolve(error)));
      assert.equal(statError?.code, grpc.status.INVALID_ARGUMENT);
      await assert.rejects(rawPut(fixture.client.raw, [{ header: { key, size: 1 } }, { data: Buffer.from('x') }]), (error: unknown) => {
        assert.equal(statusOf(error), grpc.status.INVALID_ARGUMENT);
        return true;
      });
      // The client refuses it before sending, with the same code.
      await assert.rejects(fixture.client.getArtifact(key), (error: unknown) => statusOf(error) === grpc.status.INVALID_ARGUMENT);
    }
    // A Put without a header first.
    await assert.rejects(rawPut(fixture.client.raw, [{ data: Buffer.from('x') }]), (error: unknown) => {
      assert.equal(statusOf(error), grpc.status.INVALID_ARGUMENT);
      assert.match((error as grpc.ServiceError).details, /first message must be a header/);
      return true;
    });
    await assertServing();
  });

  it('RESOURCE_EXHAUSTED for a message over the limit, on the server and on the client', async () => {
    const Client = loadProtocol().ippro.v1.ArtifactService;
    const unlimited = new Client(fixture.server.address, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 64 * MiB,
    });
    try {
      const big = patternBytes(MAX_MESSAGE_BYTES + 1, 3);
      await assert.rejects(
        rawPut(unlimited, [{ header: { key: artifactKeyOf(big), size: big.length } }, { data: big }]),
        (error: unknown) => {
          assert.equal(statusOf(error), grpc.status.RESOURCE_EXHAUSTED);
          return true;
        },
      );
      assert.equal(await fixture.client.statArtifact(artifactKeyOf(big)), null);
    } finally {
      unlimited.close();
    }
    // A client whose receive limit is below the server's 1 MiB chunks refuses them.
    const { key } = await fixture.client.putArtifact(patternBytes(2 * MiB, 8));
    const small = new ArtifactClient(fixture.server.address, { maxMessageBytes: 512 * 1024 });
    try {
      await assert.rejects(small.getArtifact(key), (error: unknown) => statusOf(error) === grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      small.close();
    }
    // An artifact declared larger than the server's maxArtifactBytes is refused on its header.
    const declaredKey = artifactKeyOf(Buffer.from('huge'));
    await assert.rejects(rawPut(fixture.client.raw, [{ header: { key: declaredKey, size: 17 * MiB } }]), (error: unknown) => {
      assert.equal(statusOf(error), grpc.status.RESOURCE_EXHAUSTED);
      assert.match((error as grpc.ServiceError).details, /exceeds the server's limit/);
      return true;
    });
    await assertServing();
  });

  it('refuses a Put declared above the default 4 GiB on its header, naming the flag that raises it', async () => {
    const { dir, cleanup } = makeTempDir();
    const server = await startArtifactServer({ store: await ArtifactStore.open({ root: dir, fsync: false }) });
    const client = new ArtifactClient(server.address);
    try {
      const key = artifactKeyOf(Buffer.from('a disk filler'));
      await assert.rejects(rawPut(client.raw, [{ header: { key, size: DEFAULT_MAX_ARTIFACT_BYTES + 1 } }]), (error: unknown) => {
        assert.equal(statusOf(error), grpc.status.RESOURCE_EXHAUSTED);
        assert.match((error as grpc.ServiceError).details, /of 4294967297 bytes exceeds the server's limit of 4294967296 bytes per Put \(--max-artifact-bytes raises it\)/);
        return true;
      });
      assert.equal(DEFAULT_MAX_ARTIFACT_BYTES, 4 * 1024 * MiB);
    } finally {
      client.close();
      await server.close(500);
      cleanup();
    }
  });

  it('refuses a Put that would take the store past --max-store-bytes on its header, naming the quota, the usage and the flag; nothing stored', async () => {
    const { dir, cleanup } = makeTempDir();
    const store = await ArtifactStore.open({ root: dir, fsync: false });
    const server = await startArtifactServer({ store, maxStoreBytes: 3 * MiB });
    const client = new ArtifactClient(server.address);
    try {
      const first = patternBytes(2 * MiB, 21);
      await client.putArtifact(first);
      assert.equal(store.usedBytes(), 2 * MiB);
      // 2 MiB held + 2 MiB more > 3 MiB: refused on the header, before any data is sent.
      const second = patternBytes(2 * MiB, 22);
      await assert.rejects(rawPut(client.raw, [{ header: { key: artifactKeyOf(second), size: second.length } }]), (error: unknown) => {
        assert.equal(statusOf(error), grpc.status.RESOURCE_EXHAUSTED);
        assert.equal(
          (error as grpc.ServiceError).details,
          `artifact ${artifactKeyOf(second)} of ${2 * MiB} bytes would take the store past its quota of ${3 * MiB} bytes: it holds ${2 * MiB} bytes now; nothing stored (--max-store-bytes raises the quota)`,
        );
        return true;
      });
      // The client's whole Put is refused the same way, and nothing of it is stored.
      await assert.rejects(client.putArtifact(second), (error: unknown) => statusOf(error) === grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(await client.statArtifact(artifactKeyOf(second)), null);
      assert.equal(store.usedBytes(), 2 * MiB);
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'no partial file left');
      // What still fits is stored, and a Put of an artifact the store holds adds nothing.
      const small = patternBytes(MiB, 23);
      assert.equal((await client.putArtifact(small)).alreadyExisted, false);
      assert.equal((await client.putArtifact(first)).alreadyExisted, true);
      assert.equal(store.usedBytes(), 3 * MiB);
      await assert.rejects(client.putArtifact(Buffer.from('one byte too many')), (error: unknown) => statusOf(error) === grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
      await server.close(500);
      cleanup();
    }
  });

  it('counts Puts still arriving against the quota, so that two that each fit cannot overrun it together', async () => {
    const { dir, cleanup } = makeTempDir();
    const store = await ArtifactStore.open({ root: dir, fsync: false });
    const server = await startArtifactServer({ store, maxStoreBytes: 3 * MiB });
    const client = new ArtifactClient(server.address);
    try {
      const [a, b] = [patternBytes(2 * MiB, 31), patternBytes(2 * MiB, 32)];
      // A's header is accepted; its data has not arrived yet.
      let finished!: (result: PutResult__Output | undefined) => void;
      const done = new Promise<PutResult__Output | undefined>((resolve) => (finished = resolve));
      const slow = client.raw.Put((error, result) => finished(error ? undefined : result));
      slow.write({ header: { key: artifactKeyOf(a), size: a.length } });
      // The service reserves A's bytes and only then starts writing its temporary file.
      for (let tries = 0; readdirSync(join(dir, 'tmp')).length === 0; tries += 1) {
        assert.ok(tries < 500, 'the Put of A never started');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await assert.rejects(client.putArtifact(b), (error: unknown) => {
        assert.equal(statusOf(error), grpc.status.RESOURCE_EXHAUSTED);
        assert.match((error as Error).message, /it holds 2097152 bytes now \(with Puts still arriving\)/);
        return true;
      });
      slow.write({ data: a.subarray(0, MiB) });
      slow.write({ data: a.subarray(MiB) });
      slow.end();
      assert.equal((await done)?.size, 2 * MiB);
      assert.equal(store.usedBytes(), 2 * MiB);
      assert.equal(await client.statArtifact(artifactKeyOf(b)), null);
    } finally {
      client.close();
      await server.close(500);
      cleanup();
    }
  });

  it('will not take a store quota it cannot keep: a store that does not count its bytes', async () => {
    const { dir, cleanup } = makeTempDir();
    const remote = await startArtifactServer({ store: await ArtifactStore.open({ root: dir, fsync: false }) });
    const client = new ArtifactClient(remote.address);
    try {
      await assert.rejects(startArtifactServer({ store: new ServiceStorage(client), maxStoreBytes: MiB }), /--max-store-bytes needs a store that counts its bytes \(a store on disk\); artifact service 127\.0\.0\.1:\d+ does not/);
    } finally {
      client.close();
      await remote.close(500);
      cleanup();
    }
  });

  it('stops a Put that sends more bytes than its header declared, storing nothing', async () => {
    const bytes = patternBytes(3 * MiB, 11);
    const chunks = [0, 1, 2].map((index) => ({ data: bytes.subarray(index * MiB, (index + 1) * MiB) }));
    await assert.rejects(rawPut(fixture.client.raw, [{ header: { key: artifactKeyOf(bytes), size: MiB } }, ...chunks]), (error: unknown) => {
      assert.equal(statusOf(error), grpc.status.DATA_LOSS);
      assert.match((error as grpc.ServiceError).details, /sent more than the 1048576 bytes its header declared; nothing stored/);
      return true;
    });
    assert.equal(await fixture.client.statArtifact(artifactKeyOf(bytes)), null);
    assert.deepEqual(readdirSync(join(fixture.root, 'tmp')), [], 'no partial file left');
    await assertServing();
  });
});

describe('standard services', () => {
  it('answers grpc.health.v1 Check and Watch', async () => {
    const Health = loadProtocol().grpc.health.v1.Health;
    const health = new Health(fixture.server.address, grpc.credentials.createInsecure());
    try {
      const check = (service: string): Promise<{ status?: string; code?: number }> =>
        new Promise((resolve) =>
          health.Check({ service }, (error, response) => resolve(error ? { code: error.code } : { status: response?.status ?? '' })),
        );
      assert.deepEqual(await check(''), { status: 'SERVING' });
      assert.deepEqual(await check(ARTIFACT_SERVICE_NAME), { status: 'SERVING' });
      assert.deepEqual(await check('no.such.Service'), { code: grpc.status.NOT_FOUND });
      const watch = health.Watch({ service: ARTIFACT_SERVICE_NAME });
      const [first] = (await new Promise((resolve) => watch.once('data', (message) => resolve([message])))) as [{ status: string }];
      assert.equal(first.status, 'SERVING');
      watch.cancel();
      watch.on('error', () => undefined);
    } finally {
      health.close();
    }
  });

  it('lists its services through server reflection (what grpcurl list uses)', async () => {
    const reflectionProto = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
    const definition = protoLoader.loadSync(reflectionProto, { keepCase: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }> } } } };
    };
    const client = new loaded.grpc.reflection.v1.ServerReflection(fixture.server.address, grpc.credentials.createInsecure());
    try {
      const call = client.ServerReflectionInfo();
      const response = new Promise<{ list_services_response?: { service: { name: string }[] } }>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
      });
      call.write({ list_services: '' });
      const names = ((await response).list_services_response?.service ?? []).map((service) => service.name).sort();
      call.end();
      assert.deepEqual(names, [HEALTH_SERVICE_NAME, ARTIFACT_SERVICE_NAME].sort());
    } finally {
      client.close();
    }
  });
});
