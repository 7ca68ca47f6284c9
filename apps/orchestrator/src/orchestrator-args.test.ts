import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestCertificates } from '@ippro/protocol/testing';
import type { TestCertificates } from '@ippro/protocol/testing';
import { DEFAULT_ARTIFACTS_LISTEN, bundleManifestPath, checkWorkflowBundle, writeWorkflowBundle } from '@ippro/orchestration';
import { OrchestratorUsageError, parseOrchestratorArgs } from './orchestrator-args';

let dir: string;
let certs: TestCertificates;
let bundle: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ippro-orchestrator-args-'));
  certs = makeTestCertificates(dir);
  bundle = await writeWorkflowBundle(join(dir, 'workflow-bundle.js'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

const refuses = (argv: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): void => {
  assert.throws(
    () => parseOrchestratorArgs(argv, env),
    (error: unknown) => error instanceof OrchestratorUsageError && pattern.test(error.message),
  );
};

describe('ippro-orchestrator flags', () => {
  it('takes the Temporal target, TLS and API key from flags or the shared IPPRO_ variables', () => {
    const env = { IPPRO_TEMPORAL_ADDRESS: 'temporal.svc:7233', IPPRO_TEMPORAL_NAMESPACE: 'pruning', IPPRO_TEMPORAL_API_KEY: 'key', IPPRO_TASK_QUEUE: 'gpu', IPPRO_ARTIFACTS_DIR: dir };
    const fromEnv = parseOrchestratorArgs([], env).orchestrator;
    assert.equal(fromEnv.address, 'temporal.svc:7233');
    assert.equal(fromEnv.namespace, 'pruning');
    assert.equal(fromEnv.apiKey, 'key');
    assert.equal(fromEnv.taskQueue, 'gpu');
    assert.equal(fromEnv.artifacts, dir);
    const flags = parseOrchestratorArgs(['--address', 'old-flag:7233', '--tls-ca', certs.caCert, '--tls-cert', certs.clientCert, '--tls-key', certs.clientKey, '--tls-server-name', 'temporal'], env).orchestrator;
    assert.equal(flags.address, 'old-flag:7233', '--address is --temporal');
    assert.deepEqual(flags.tls, { serverCaFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey, serverNameOverride: 'temporal' });
    assert.equal(parseOrchestratorArgs(['--temporal', 'new:7233', '--address', 'old:7233'], env).orchestrator.address, 'new:7233');
  });

  it('dispatches to workers (dns:NAME gets the worker port) and then serves its store to them', () => {
    const withWorkers = parseOrchestratorArgs(['--artifacts', dir, '--workers', 'dns:workers.ippro.svc'], {});
    assert.equal(withWorkers.workers, 'dns:workers.ippro.svc:7071');
    assert.equal(withWorkers.serveArtifacts, DEFAULT_ARTIFACTS_LISTEN);
    const listed = parseOrchestratorArgs(['--artifacts', dir, '--serve-artifacts', '127.0.0.1:0', '--workers-ca', certs.caCert, '--artifacts-tls-cert', certs.serverCert, '--artifacts-tls-key', certs.serverKey], { IPPRO_WORKERS: 'a:1,b:2' });
    assert.equal(listed.workers, 'a:1,b:2');
    assert.equal(listed.serveArtifacts, '127.0.0.1:0');
    assert.deepEqual(listed.workersTls, { caFile: certs.caCert });
    assert.deepEqual(listed.artifactsTls, { certFile: certs.serverCert, keyFile: certs.serverKey });
    const alone = parseOrchestratorArgs(['--artifacts', dir], {});
    assert.equal(alone.workers, undefined, 'computes in its own process');
    assert.equal(alone.serveArtifacts, undefined);
  });

  it('lets scheduled runs use only the directories it names', () => {
    assert.deepEqual(parseOrchestratorArgs(['--artifacts', dir], {}).orchestrator.scheduleDirs, []);
    assert.deepEqual(parseOrchestratorArgs(['--artifacts', dir, '--schedule-dirs', '/models, /kept'], {}).orchestrator.scheduleDirs, ['/models', '/kept']);
    assert.deepEqual(parseOrchestratorArgs(['--artifacts', dir], { IPPRO_SCHEDULE_DIRS: '/srv/ippro' }).orchestrator.scheduleDirs, ['/srv/ippro']);
  });

  it('names the flag or variable at fault', () => {
    refuses([], /--artifacts DIR \(or \$IPPRO_ARTIFACTS_DIR\).* is required/);
    refuses(['--artifacts', dir, '--temporal', 'nowhere'], /--temporal must be HOST:PORT/);
    refuses(['--artifacts', dir], /\$IPPRO_TEMPORAL_TLS_CERT needs --tls-key too/, { IPPRO_TEMPORAL_TLS_CERT: certs.clientCert });
    refuses(['--artifacts', dir, '--workers', 'dns:'], /--workers: worker pool 'dns:'/);
    refuses(['--artifacts', dir], /\$IPPRO_WORKERS: .*not host:port/, { IPPRO_WORKERS: 'just-a-name' });
    refuses(['--artifacts', dir, '--serve-artifacts', 'everywhere'], /--serve-artifacts must be HOST:PORT/);
    refuses(['--artifacts', dir, '--workers-cert', certs.clientCert], /--workers-cert and --workers-key go together/);
    refuses(['--artifacts', dir, '--artifacts-tls-ca', certs.caCert], /--artifacts-tls-ca needs --artifacts-tls-cert/);
    refuses(['--artifacts', dir, '--max-activities', '0'], /--max-activities must be a positive integer/);
    refuses(['--artifacts', dir, '--frobnicate'], /Unknown option '--frobnicate'/);
  });
});

describe('the pre-built workflow bundle', () => {
  it('is used by default when it holds the installed workflow code', () => {
    const parsed = parseOrchestratorArgs(['--artifacts', dir], {}, { workflowBundle: bundle });
    assert.equal(parsed.orchestrator.workflowBundlePath, bundle);
    assert.match(parsed.workflowCode, /^pre-built bundle .*workflow-bundle\.js \(built /);
    const missing = parseOrchestratorArgs(['--artifacts', dir], {}, { workflowBundle: join(dir, 'none.js') });
    assert.equal(missing.orchestrator.workflowBundlePath, undefined);
    assert.match(missing.workflowCode, /^bundled at start \(.*none\.js does not exist\)/);
  });

  it('is not used, and refused when named, once it was built from other workflow code', () => {
    const stale = join(dir, 'stale-bundle.js');
    writeFileSync(stale, readFileSync(bundle));
    const manifest = JSON.parse(readFileSync(bundleManifestPath(bundle), 'utf8')) as { sourceHash: string };
    writeFileSync(bundleManifestPath(stale), JSON.stringify({ ...manifest, sourceHash: '0'.repeat(64) }));
    const check = checkWorkflowBundle(stale);
    assert.equal(check.usable, false);
    const fallback = parseOrchestratorArgs(['--artifacts', dir], {}, { workflowBundle: stale });
    assert.equal(fallback.orchestrator.workflowBundlePath, undefined);
    assert.match(fallback.workflowCode, /bundled at start \(.*other workflow code than the one installed/);
    refuses(['--artifacts', dir, '--workflow-bundle', stale], /--workflow-bundle: .*other workflow code/);
  });
});
