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
import { InsecureTransportError, checkClientTransport, checkServerTransport, hostOf, isLoopbackHost } from './transport-security';

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

describe('transport security beyond loopback', () => {
  it('refuses to serve the store beyond loopback without mutual TLS, unless told --insecure (a warning)', async () => {
    await assert.rejects(startArtifactServer({ store, address: '0.0.0.0:0' }), (error: Error) => error instanceof InsecureTransportError && /beyond loopback, without TLS: give a certificate/.test(error.message));
    const serverOnly = { certFile: certs.serverCert, keyFile: certs.serverKey };
    await assert.rejects(startArtifactServer({ store, address: '0.0.0.0:0', tls: serverOnly }), /without a client CA/);
    const warnings: string[] = [];
    checkServerTransport('0.0.0.0:7070', undefined, { what: 'the artifact service', flags: '--tls-cert', insecure: true, warn: (line) => warnings.push(line) });
    assert.match(warnings.join('\n'), /^WARNING: the artifact service listens on 0\.0\.0\.0:7070 without TLS \(--insecure\)/);
    checkServerTransport('0.0.0.0:7070', { ...serverOnly, clientCaFile: certs.caCert }, { what: 'x', flags: '', insecure: false, warn: assert.fail });
    for (const loopback of ['127.0.0.1:0', 'localhost:7070', '[::1]:7070', '127.3.2.1:1']) checkServerTransport(loopback, undefined, { what: 'x', flags: '', insecure: false, warn: assert.fail });
  });

  it('refuses a client beyond loopback without its certificate and the CA, unless told --insecure', () => {
    const check = { what: 'the workers', flags: '--workers-cert', insecure: false, warn: assert.fail };
    for (const target of ['10.1.2.3:7071', 'dns:ippro-worker.ippro.svc:7071', 'worker-0:7071']) {
      assert.throws(() => checkClientTransport(target, { caFile: certs.caCert }, check), InsecureTransportError, target);
    }
    checkClientTransport('10.1.2.3:7071', { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey }, check);
    checkClientTransport('dns:localhost:7071', undefined, check);
    assert.equal(hostOf('dns:ippro-worker.ippro.svc:7071'), 'ippro-worker.ippro.svc');
    assert.equal(isLoopbackHost('::ffff:127.0.0.1'), true);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
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
    assertRefused(await roundTrip(server.address, { tls: { ...trusted, certFile: certs.expiredClientCert, keyFile: certs.expiredClientKey } }), 'an expired client certificate');
    assertRefused(await roundTrip(server.address, {}), 'a plaintext client');
    // The server still serves a valid client afterwards.
    assert.equal(await roundTrip(server.address, { tls: { ...trusted, certFile: certs.clientCert, keyFile: certs.clientKey } }), undefined);
  });
});
