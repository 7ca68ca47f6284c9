import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ArtifactStore } from '@ippro/artifact-store';
import { makeTempDir } from '@ippro/artifact-store/testing';
import { ArtifactClient } from './artifact-client';
import type { ArtifactClientOptions } from './artifact-client';
import { startArtifactServer } from './artifact-server';
import type { ArtifactServer } from './artifact-server';
import { makeTestCertificates } from './testing/certificates';
import type { TestCertificates } from './testing/certificates';

let certs: TestCertificates;
let store: ArtifactStore;
const cleanups: (() => void | Promise<void>)[] = [];

before(async () => {
  const { dir, cleanup } = makeTempDir('ippro-tls-');
  cleanups.push(cleanup);
  certs = makeTestCertificates(dir);
  store = await ArtifactStore.open({ root: `${dir}/store`, fsync: false });
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function serve(mutual: boolean): Promise<ArtifactServer> {
  const server = await startArtifactServer({
    store,
    tls: { certFile: certs.serverCert, keyFile: certs.serverKey, ...(mutual ? { clientCaFile: certs.caCert } : {}) },
  });
  cleanups.push(() => server.close(500));
  return server;
}

/** A refusal is UNAVAILABLE: the TLS handshake fails, so no connection is established. */
function assertRefused(error: Error | undefined, what: string): void {
  assert.ok(error, `${what} must be refused`);
  assert.equal((error as { code?: number }).code, status.UNAVAILABLE, `${what}: ${error.message}`);
}

/** Puts and gets through a client with these options; resolves to the error if refused. */
async function roundTrip(address: string, options: ArtifactClientOptions): Promise<Error | undefined> {
  const client = new ArtifactClient(address, { callTimeoutMs: 10_000, ...options });
  try {
    const bytes = Buffer.from(`over TLS ${Math.random()}`);
    const { key } = await client.putArtifact(bytes);
    assert.deepEqual(await client.getArtifact(key), bytes);
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    client.close();
  }
}

describe('TLS', () => {
  it('serves a client that trusts the CA, refuses a plaintext client and one that does not trust it', async () => {
    const server = await serve(false);
    assert.equal(await roundTrip(server.address, { tls: { caFile: certs.caCert } }), undefined);
    assert.equal(await roundTrip(`localhost:${server.port}`, { tls: { caFile: certs.caCert } }), undefined);
    assertRefused(await roundTrip(server.address, {}), 'a plaintext client');
    assertRefused(await roundTrip(server.address, { tls: { caFile: certs.rogueClientCert } }), 'a client that does not trust the server certificate');
  });
});

describe('mutual TLS', () => {
  it('serves a client with a certificate from the CA and refuses clients without one', async () => {
    const server = await serve(true);
    const trusted = { caFile: certs.caCert };
    assert.equal(await roundTrip(server.address, { tls: { ...trusted, certFile: certs.clientCert, keyFile: certs.clientKey } }), undefined);
    assertRefused(await roundTrip(server.address, { tls: trusted }), 'a client without a certificate');
    const rogue = await roundTrip(server.address, { tls: { ...trusted, certFile: certs.rogueClientCert, keyFile: certs.rogueClientKey } });
    assertRefused(rogue, 'a client certificate from another CA');
    assertRefused(await roundTrip(server.address, {}), 'a plaintext client');
    // The server still serves a valid client afterwards.
    assert.equal(await roundTrip(server.address, { tls: { ...trusted, certFile: certs.clientCert, keyFile: certs.clientKey } }), undefined);
  });
});
