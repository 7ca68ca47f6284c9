import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrchestratorUsageError, parseOrchestratorArgs } from './orchestrator-args';

describe('ippro-orchestrator --store and --metrics-port', () => {
  it('takes a shared S3 store instead of --artifacts, from flags or the environment, and a metrics port', () => {
    const parsed = parseOrchestratorArgs(['--store', 's3://ippro-runs/prod', '--s3-endpoint', 'http://seaweedfs:8333', '--metrics-port', '9464'], {});
    assert.deepEqual(parsed.store, { kind: 's3', bucket: 'ippro-runs', prefix: 'prod', endpoint: 'http://seaweedfs:8333' });
    assert.equal(parsed.metricsPort, 9464);
    const fromEnv = parseOrchestratorArgs([], { IPPRO_STORE: 's3://from-env', AWS_REGION: 'us-west-2', IPPRO_METRICS_PORT: '0' });
    assert.deepEqual(fromEnv.store, { kind: 's3', bucket: 'from-env', prefix: '', region: 'us-west-2' });
    assert.equal(fromEnv.metricsPort, 0);
    assert.equal(parseOrchestratorArgs(['--artifacts', '/tmp/store'], {}).store, undefined);
  });

  it('with a shared bucket and workers opens no artifact service unless asked (the workers read the bucket)', () => {
    const parsed = parseOrchestratorArgs(['--store', 's3://ippro-runs/prod', '--workers', 'dns:ippro-worker'], {});
    assert.equal(parsed.serveArtifacts, undefined);
    assert.equal(parseOrchestratorArgs(['--store', 's3://ippro-runs/prod', '--workers', 'dns:ippro-worker', '--serve-artifacts', '127.0.0.1:0'], {}).serveArtifacts, '127.0.0.1:0');
  });

  it('bounds each Put to the artifact service it serves: 4 GiB unless --max-artifact-bytes says otherwise', () => {
    assert.equal(parseOrchestratorArgs(['--artifacts', '/tmp/store', '--workers', '127.0.0.1:7071'], {}).maxArtifactBytes, 4 * 1024 ** 3);
    assert.equal(parseOrchestratorArgs(['--artifacts', '/tmp/store', '--workers', '127.0.0.1:7071', '--max-artifact-bytes', '1048576'], {}).maxArtifactBytes, 1048576);
  });

  it('puts no quota on the store it serves unless --max-store-bytes gives one', () => {
    assert.equal(parseOrchestratorArgs(['--artifacts', '/tmp/store', '--workers', '127.0.0.1:7071'], {}).maxStoreBytes, undefined);
    assert.equal(parseOrchestratorArgs(['--artifacts', '/tmp/store', '--workers', '127.0.0.1:7071', '--max-store-bytes', '1073741824'], {}).maxStoreBytes, 1073741824);
    assert.throws(() => parseOrchestratorArgs(['--artifacts', '/tmp/store', '--workers', '127.0.0.1:7071', '--max-store-bytes', '0'], {}), /--max-store-bytes/);
  });

  it('refuses --store with --artifacts, neither, and a bad metrics port, naming the flag', () => {
    const refused: [string[], RegExp][] = [
      [['--artifacts', '/tmp/store', '--store', 's3://bucket'], /give --artifacts DIR or --store URL, not both/],
      [[], /--artifacts DIR \(or \$IPPRO_ARTIFACTS_DIR\) or --store URL is required/],
      [['--store', 's3://bucket', '--s3-access-key-id', 'id'], /--s3-access-key-id and --s3-secret-access-key go together/],
      [['--store', 's3://bucket', '--metrics-port', '65536'], /--metrics-port must be a port \(0-65535\), got '65536'/],
    ];
    for (const [argv, message] of refused) assert.throws(() => parseOrchestratorArgs(argv, {}), (error: unknown) => error instanceof OrchestratorUsageError && message.test(error.message));
  });
});
