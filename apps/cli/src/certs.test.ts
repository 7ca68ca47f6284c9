import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './testing/run-cli';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-certs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const certificate = (file: string): X509Certificate => new X509Certificate(readFileSync(file));

test('certs create: a CA and a certificate per name, signed by it, for server and client use; a second call reuses the CA', () => {
  const out = join(scratch, 'cluster');
  const first = runCli(['certs', 'create', '--out', out, '--names', 'orchestrator,worker', '--hosts', 'ippro-worker.ippro.svc,10.0.0.7', '--days', '30']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^new CA: .*ca\.crt/m);
  const ca = certificate(join(out, 'ca.crt'));
  assert.equal(ca.ca, true);
  for (const name of ['orchestrator', 'worker']) {
    const issued = certificate(join(out, `${name}.crt`));
    assert.ok(issued.verify(ca.publicKey), `${name}.crt is signed by the CA`);
    assert.equal(issued.checkIssued(ca), true);
    assert.equal(issued.ca, false);
    assert.equal(issued.subjectAltName, `DNS:${name}, DNS:ippro-worker.ippro.svc, IP Address:10.0.0.7`);
    assert.deepEqual(issued.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'server and client authentication');
    const days = (Date.parse(issued.validTo) - Date.parse(issued.validFrom)) / 86_400_000;
    assert.equal(Math.round(days), 30);
    assert.equal(statSync(join(out, `${name}.key`)).mode & 0o077, 0, 'the key is readable by its owner only');
  }
  assert.equal(statSync(join(out, 'ca.key')).mode & 0o077, 0);

  const second = runCli(['certs', 'create', '--out', out, '--names', 'cli']);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /^CA: /m, 'the CA already there signs');
  assert.equal(certificate(join(out, 'ca.crt')).fingerprint256, ca.fingerprint256);
  assert.ok(certificate(join(out, 'cli.crt')).verify(ca.publicKey));
  assert.equal(certificate(join(out, 'cli.crt')).subjectAltName, 'DNS:cli, DNS:localhost, IP Address:127.0.0.1');
});

test('certs create: bad input is exit 2 naming what is wrong, before anything is written', () => {
  const refused: [string[], RegExp][] = [
    [['--out', join(scratch, 'a')], /--names is required/],
    [['--names', 'worker'], /--out is required/],
    [['--out', join(scratch, 'b'), '--names', '../escape'], /certificate name '\.\.\/escape' must be letters, digits/],
    [['--out', join(scratch, 'c'), '--names', 'ca'], /certificate name 'ca' is the authority's own/],
    [['--out', join(scratch, 'd'), '--names', 'w', '--days', '0'], /--days must be a positive integer, got '0'/],
  ];
  for (const [args, message] of refused) {
    const result = runCli(['certs', 'create', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
