import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NativeConnection } from '@temporalio/worker';
import { makeTestCertificates } from '@ippro/protocol/testing';
import type { TestCertificates } from '@ippro/protocol/testing';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { connectTemporalClient } from './connect-client';
import { temporalConnectionOptions } from './connection-options';
import type { TemporalTarget } from './temporal-target';
import { startTlsProxy } from './testing/tls-proxy';
import type { TlsProxy } from './testing/tls-proxy';

/**
 * TLS, mutual TLS, the server-name override and the API key, against a real Temporal dev
 * server behind a TLS-terminating frontend (the dev server itself serves plaintext only).
 */
let dir: string;
let certs: TestCertificates;
let server: DevServer;
let mutualProxy: TlsProxy;
let tlsProxy: TlsProxy;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ippro-temporal-tls-'));
  certs = makeTestCertificates(dir);
  server = await startDevServer({ dbFile: join(dir, 'temporal.db') });
  mutualProxy = await startTlsProxy({ upstream: server.address, certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert });
  tlsProxy = await startTlsProxy({ upstream: server.address, certFile: certs.serverCert, keyFile: certs.serverKey });
});

after(async () => {
  await mutualProxy?.close();
  await tlsProxy?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What a refused connection says (grpc-js gives up at the connect deadline). */
const REFUSED = /Failed to connect before the deadline/;

/** Connects, asks the server one question through the proxy, and closes. */
async function roundTrip(target: TemporalTarget, connectTimeoutMs = 3000): Promise<string> {
  const client = await connectTemporalClient(target, { connectTimeoutMs });
  try {
    const info = await client.workflowService.getSystemInfo({});
    await client.workflowService.describeNamespace({ namespace: target.namespace ?? 'default' });
    return info.serverVersion ?? '';
  } finally {
    await client.connection.close();
  }
}

describe('Temporal over TLS (real dev server behind a TLS frontend)', () => {
  it('connects with mutual TLS and the API key; the frontend sees the client certificate and the bearer token', async () => {
    const target: TemporalTarget = {
      address: mutualProxy.address,
      namespace: server.namespace,
      tls: { serverCaFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey },
      apiKey: 'test-api-key',
    };
    const before = mutualProxy.requests.length;
    assert.notEqual(await roundTrip(target), '');
    const seen = mutualProxy.requests.slice(before);
    assert.ok(seen.some((request) => request.path.endsWith('/DescribeNamespace')), JSON.stringify(seen));
    for (const request of seen) {
      assert.equal(request.clientCommonName, 'ippro worker');
      assert.equal(request.authorization, 'Bearer test-api-key');
    }
  });

  it('the orchestrator side (NativeConnection) connects with the same options', async () => {
    const before = mutualProxy.requests.length;
    const connection = await NativeConnection.connect(
      temporalConnectionOptions({ address: mutualProxy.address, tls: { serverCaFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey }, apiKey: 'worker-key' }),
    );
    try {
      await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
    const seen = mutualProxy.requests.slice(before);
    assert.ok(seen.length > 0);
    assert.ok(seen.every((request) => request.clientCommonName === 'ippro worker' && request.authorization === 'Bearer worker-key'), JSON.stringify(seen));
  });

  it('checks the server certificate, also against an overridden server name', async () => {
    assert.notEqual(await roundTrip({ address: tlsProxy.address, tls: { serverCaFile: certs.caCert, serverNameOverride: 'localhost' } }), '');
    await assert.rejects(roundTrip({ address: tlsProxy.address, tls: { serverCaFile: certs.caCert, serverNameOverride: 'elsewhere.example' } }, 1000), REFUSED);
    // The rogue CA did not sign the server's certificate; the system roots did not either.
    await assert.rejects(roundTrip({ address: tlsProxy.address, tls: { serverCaFile: join(dir, 'rogue-ca.crt') } }, 1000), REFUSED);
    await assert.rejects(roundTrip({ address: tlsProxy.address, tls: true }, 1000), REFUSED);
  });

  it('is refused by a mutual-TLS frontend without a client certificate, or with one from another CA', async () => {
    await assert.rejects(roundTrip({ address: mutualProxy.address, tls: { serverCaFile: certs.caCert } }, 1000), REFUSED);
    await assert.rejects(roundTrip({ address: mutualProxy.address, tls: { serverCaFile: certs.caCert, clientCertFile: certs.rogueClientCert, clientKeyFile: certs.rogueClientKey } }, 1000), REFUSED);
  });

  it('plaintext still reaches the plaintext server, and not the TLS frontend', async () => {
    assert.notEqual(await roundTrip({ address: server.address }), '');
    await assert.rejects(roundTrip({ address: tlsProxy.address }, 1000), REFUSED);
  });
});
