import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerUsageError, parseWorkerArgs } from './worker-args';

describe('ippro worker --store and --metrics-port', () => {
  it('takes a shared S3 store with its settings, and a metrics port', () => {
    const parsed = parseWorkerArgs(['--store', 's3://ippro-runs/team', '--s3-endpoint', 'http://seaweedfs:8333', '--s3-region', 'eu-west-1', '--metrics-port', '9464']);
    assert.deepEqual(parsed.worker.store, { kind: 's3', bucket: 'ippro-runs', prefix: 'team', endpoint: 'http://seaweedfs:8333', region: 'eu-west-1' });
    assert.equal(parsed.worker.artifacts, undefined);
    assert.equal(parsed.metricsPort, 9464);
    assert.equal(parseWorkerArgs(['--metrics-port', '0']).metricsPort, 0);
    assert.equal(parseWorkerArgs([]).metricsPort, undefined);
  });

  it('refuses a store with --artifacts, S3 flags without an s3:// store, and a bad metrics port, naming the flag', () => {
    const refused: [string[], RegExp][] = [
      [['--artifacts', '127.0.0.1:7070', '--store', 's3://bucket'], /give --artifacts \(an artifact service\) or --store \(a shared store\), not both/],
      [['--s3-endpoint', 'http://x:1'], /--s3-endpoint needs --store s3:\/\/BUCKET/],
      [['--store', 's3://Bad_Bucket'], /--store: .*is not a bucket name/],
      [['--metrics-port', '70000'], /--metrics-port must be a port \(0-65535\), got '70000'/],
      [['--metrics-port', 'nine'], /--metrics-port must be a port \(0-65535\), got 'nine'/],
    ];
    for (const [argv, message] of refused) assert.throws(() => parseWorkerArgs(argv, {}), (error: unknown) => error instanceof WorkerUsageError && message.test(error.message));
  });
});
