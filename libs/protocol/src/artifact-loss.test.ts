import assert from 'node:assert/strict';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ArtifactStore } from '@ippro/artifact-store';
import { makeTempDir, patternBytes } from '@ippro/artifact-store/testing';
import { ArtifactClient } from './artifact-client';
import { artifactKeyOfStatus } from './artifact-status';
import { startArtifactServer } from './artifact-server';
import type { ArtifactServer } from './artifact-server';

/** A damaged or missing artifact is reported with its key, in the message and in the trailers. */
let dir: string;
let cleanup: () => void;
let store: ArtifactStore;
let server: ArtifactServer;
let client: ArtifactClient;

before(async () => {
  ({ dir, cleanup } = makeTempDir('ippro-artifact-loss-'));
  store = await ArtifactStore.open({ root: dir, fsync: false });
  server = await startArtifactServer({ store });
  client = new ArtifactClient(server.address);
});

after(async () => {
  client.close();
  await server.close(500);
  cleanup();
});

function flipByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[7] = (bytes[7] as number) ^ 0xff;
  writeFileSync(file, bytes);
}

/** The raw status of a Get (the client would turn it into an ArtifactError). */
function rawGet(key: string): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    const call = client.raw.Get({ key });
    call.on('data', () => undefined);
    call.on('error', resolve);
    call.on('end', () => reject(new Error('the Get succeeded')));
  });
}

describe('lost artifacts', () => {
  it('a flipped byte: the store moves the copy aside, lists it, and a put restores the artifact', async () => {
    const bytes = patternBytes(4096, 3);
    const { key } = await store.put(bytes);
    flipByte(store.pathOf(key));
    await assert.rejects(store.get(key), (error: Error) => /is corrupted: its stored bytes have sha256 [0-9a-f]{64}; moved to .*corrupt/.test(error.message));
    const copies = await store.corruptedCopies(key);
    assert.equal(copies.length, 1);
    assert.match(copies[0] ?? '', new RegExp(`corrupt/${key}\\.\\d+\\.`));
    assert.equal(await store.has(key), false);
    await store.put(bytes);
    assert.ok((await store.get(key)).equals(bytes));
    assert.deepEqual(await store.corruptedCopies('0'.repeat(64)), []);
  });

  it('the service names the damaged or missing artifact in the trailers', async () => {
    const damaged = (await store.put(patternBytes(2048, 4))).key;
    flipByte(store.pathOf(damaged));
    const corrupted = await rawGet(damaged);
    assert.equal(corrupted.code, grpc.status.DATA_LOSS);
    assert.equal(artifactKeyOfStatus(corrupted), damaged);

    const deleted = (await store.put(patternBytes(2048, 5))).key;
    unlinkSync(store.pathOf(deleted));
    const missing = await rawGet(deleted);
    assert.equal(missing.code, grpc.status.NOT_FOUND);
    assert.equal(artifactKeyOfStatus(missing), deleted);
    assert.equal(artifactKeyOfStatus(new Error('no trailers')), undefined);
  });
});
