import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestCertificates } from '@ippro/protocol/testing';
import type { TestCertificates } from '@ippro/protocol/testing';
import { temporalConnectionOptions, temporalTlsConfig } from './connection-options';
import { flagOf, usageLines } from '@ippro/settings';
import { TEMPORAL_SETTINGS, temporalSettingsFrom } from './temporal-settings';
import { TemporalTargetError } from './temporal-target';

let dir: string;
let certs: TestCertificates;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ippro-temporal-settings-'));
  certs = makeTestCertificates(dir);
  writeFileSync(join(dir, 'not-pem.txt'), 'hello');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const rejects = (run: () => unknown, pattern: RegExp): void => {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TemporalTargetError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
};

describe('temporalSettingsFrom', () => {
  it('gives nothing when nothing is set, so the caller falls back to its stack or defaults', () => {
    assert.deepEqual(temporalSettingsFrom({}, {}), { target: {} });
  });

  it('reads every setting from its variable, and a flag wins over the variable', () => {
    const env = {
      IPPRO_TEMPORAL_ADDRESS: 'temporal.internal:7233',
      IPPRO_TEMPORAL_NAMESPACE: 'pruning',
      IPPRO_TASK_QUEUE: 'ippro-gpu',
      IPPRO_TEMPORAL_TLS_CA: certs.caCert,
      IPPRO_TEMPORAL_TLS_CERT: certs.clientCert,
      IPPRO_TEMPORAL_TLS_KEY: certs.clientKey,
      IPPRO_TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
      IPPRO_TEMPORAL_API_KEY: 'secret-from-env',
    };
    const fromEnv = temporalSettingsFrom({}, env);
    assert.deepEqual(fromEnv, {
      target: {
        address: 'temporal.internal:7233',
        namespace: 'pruning',
        tls: { serverCaFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey, serverNameOverride: 'temporal.example' },
        apiKey: 'secret-from-env',
      },
      taskQueue: 'ippro-gpu',
      addressSource: '$IPPRO_TEMPORAL_ADDRESS',
    });
    const withFlags = temporalSettingsFrom({ temporal: '10.0.0.5:7233', namespace: 'other', apiKey: 'from-flag' }, env);
    assert.equal(withFlags.target.address, '10.0.0.5:7233');
    assert.equal(withFlags.addressSource, '--temporal');
    assert.equal(withFlags.target.namespace, 'other');
    assert.equal(withFlags.target.apiKey, 'from-flag');
  });

  it('turns --tls (or a true variable) into TLS with the system roots, and IPv6 addresses are fine', () => {
    assert.deepEqual(temporalSettingsFrom({ tls: true, temporal: '[::1]:7233' }, {}).target, { address: '[::1]:7233', tls: true });
    assert.equal(temporalSettingsFrom({}, { IPPRO_TEMPORAL_TLS: 'yes' }).target.tls, true);
    assert.equal(temporalSettingsFrom({}, { IPPRO_TEMPORAL_TLS: '0' }).target.tls, undefined);
    assert.equal(temporalSettingsFrom({}, { IPPRO_TEMPORAL_ADDRESS: '   ' }).target.address, undefined, 'an empty variable is unset');
  });

  it('names the flag or variable at fault', () => {
    rejects(() => temporalSettingsFrom({ temporal: 'no-port' }, {}), /--temporal must be HOST:PORT, got 'no-port'/);
    rejects(() => temporalSettingsFrom({}, { IPPRO_TEMPORAL_ADDRESS: 'host:99999' }), /\$IPPRO_TEMPORAL_ADDRESS must be HOST:PORT/);
    rejects(() => temporalSettingsFrom({ namespace: 'two words' }, {}), /--namespace must be a name without spaces/);
    rejects(() => temporalSettingsFrom({}, { IPPRO_TEMPORAL_TLS: 'maybe' }), /\$IPPRO_TEMPORAL_TLS must be true or false/);
    rejects(() => temporalSettingsFrom({ tlsCert: certs.clientCert }, {}), /--tls-cert needs --tls-key too/);
    rejects(() => temporalSettingsFrom({}, { IPPRO_TEMPORAL_TLS_KEY: certs.clientKey }), /\$IPPRO_TEMPORAL_TLS_KEY needs --tls-cert too/);
    rejects(() => temporalSettingsFrom({ tlsCa: join(dir, 'missing.pem') }, {}), /--tls-ca .*missing\.pem: cannot read it \(ENOENT\)/);
    rejects(() => temporalSettingsFrom({ tlsCa: join(dir, 'not-pem.txt') }, {}), /--tls-ca .*not-pem\.txt: not a PEM file/);
    rejects(() => temporalSettingsFrom({ apiKey: ' ' }, {}), /--api-key is empty/);
    rejects(() => temporalSettingsFrom({ tlsCa: certs.caCert }, { IPPRO_TEMPORAL_TLS: 'false' }), /\$IPPRO_TEMPORAL_TLS turns TLS off/);
  });

  it('documents every setting with its variable', () => {
    const usage = usageLines(TEMPORAL_SETTINGS);
    for (const [name, spec] of Object.entries(TEMPORAL_SETTINGS)) {
      assert.match(usage, new RegExp(`--${flagOf(name)}\\b.*\\$${spec.env[0]}\\)`));
    }
  });
});

describe('temporalConnectionOptions', () => {
  it('reads the PEM files into the SDK options; an API key alone implies TLS', () => {
    const options = temporalConnectionOptions({
      address: 'temporal:7233',
      tls: { serverCaFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey, serverNameOverride: 'localhost' },
    });
    assert.equal(options.address, 'temporal:7233');
    const tls = options.tls as { serverRootCACertificate: Buffer; clientCertPair: { crt: Buffer; key: Buffer }; serverNameOverride: string };
    assert.match(tls.serverRootCACertificate.toString(), /BEGIN CERTIFICATE/);
    assert.match(tls.clientCertPair.crt.toString(), /BEGIN CERTIFICATE/);
    assert.match(tls.clientCertPair.key.toString(), /PRIVATE KEY/);
    assert.equal(tls.serverNameOverride, 'localhost');
    assert.deepEqual(temporalConnectionOptions({ apiKey: 'k' }), { address: '127.0.0.1:7233', tls: true, apiKey: 'k' });
    assert.deepEqual(temporalConnectionOptions({}), { address: '127.0.0.1:7233' });
    assert.equal(temporalTlsConfig({ tls: false }), undefined);
    assert.throws(() => temporalTlsConfig({ tls: { clientCertFile: certs.clientCert } }), /certificate and key go together/);
  });
});
