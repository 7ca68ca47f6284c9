import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runPruneInProcess } from '@ippro/activities';
import { putTinyModel, tinyInput } from '@ippro/activities/testing';
import { ArtifactStore, S3ArtifactStore } from '@ippro/artifact-store';
import { startSeaweedFs, seaweedFsForTests } from '@ippro/artifact-store/testing';
import type { SeaweedFs } from '@ippro/artifact-store/testing';
import { connectTemporalClient } from '@ippro/orchestration';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { pruneModel } from '@ippro/workflows';

const MAIN = join(__dirname, 'main.js');
const BUCKET = 'ippro-orchestrator';
const weed = seaweedFsForTests();

let dir: string;
let server: DevServer;
let seaweed: SeaweedFs;
let bundle: string;

function s3Env(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_ACCESS_KEY_ID: seaweed.accessKeyId, AWS_SECRET_ACCESS_KEY: seaweed.secretAccessKey };
}

before(async () => {
  if (weed.skip !== false) return;
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-orchestrator-s3-'));
  [server, seaweed] = await Promise.all([
    startDevServer({ dbFile: join(dir, 'temporal.db') }),
    startSeaweedFs({ buckets: [BUCKET], ...(weed.weedPath === undefined ? {} : { weedPath: weed.weedPath }) }),
  ]);
  bundle = join(dir, 'workflow-bundle.js');
  const written = spawnSync(process.execPath, [MAIN, '--write-bundle', bundle], { encoding: 'utf8' });
  assert.equal(written.status, 0, written.stderr);
});

after(async () => {
  await server?.stop();
  await seaweed?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('ippro-orchestrator --store s3://... --metrics-port', { skip: weed.skip }, () => {
  it('refuses --store with --artifacts (exit 2) and names a missing bucket (exit 1) before connecting to Temporal', () => {
    const both = spawnSync(process.execPath, [MAIN, '--artifacts', dir, '--store', `s3://${BUCKET}`, '--address', '127.0.0.1:1'], { encoding: 'utf8' });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give --artifacts DIR or --store URL, not both/);
    const missing = spawnSync(process.execPath, [MAIN, '--store', 's3://no-such-bucket/x', '--s3-endpoint', seaweed.endpoint, '--address', '127.0.0.1:1', '--backend', 'cpu'], {
      encoding: 'utf8',
      env: s3Env(),
    });
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, /the bucket 'no-such-bucket' does not exist at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('runs a prune on the bucket with the model of a disk-store run, serves metrics and health, logs JSON, stops on SIGTERM', async () => {
    const bucket = await S3ArtifactStore.open({
      bucket: BUCKET,
      prefix: 'orchestrator',
      endpoint: seaweed.endpoint,
      credentials: { accessKeyId: seaweed.accessKeyId, secretAccessKey: seaweed.secretAccessKey },
    });
    const child: ChildProcess = spawn(
      process.execPath,
      [MAIN, '--address', server.address, '--namespace', server.namespace, '--task-queue', 's3-test', '--backend', 'cpu', '--workflow-bundle', bundle,
        '--store', `s3://${BUCKET}/orchestrator`, '--s3-endpoint', seaweed.endpoint, '--metrics-port', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: s3Env() },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    const client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
    try {
      const metricsUrl = await new Promise<string>((resolve, reject) => {
        child.stderr?.on('data', (chunk: string) => {
          stderr += chunk;
          const url = /metrics on (http:\/\/\S+\/metrics)/.exec(stderr)?.[1];
          if (url !== undefined && stderr.includes('orchestrator: task queue')) resolve(url);
        });
        void exited.then((code) => reject(new Error(`the orchestrator exited with ${code}: ${stderr}`)));
      });
      assert.equal((await fetch(metricsUrl.replace(/\/metrics$/, '/healthz'))).status, 200);

      const modelId = await putTinyModel(bucket, 3);
      const input = tinyInput(modelId, { criterion: 'l1', plan: { target: { metric: 'channels', fraction: 0.3 }, rounds: 1 } });
      delete input.scoring;
      delete input.fineTune;
      const result = await client.workflow.execute(pruneModel, { args: [input], taskQueue: 's3-test', workflowId: 'on-s3' });
      const reference = await ArtifactStore.open({ root: join(dir, 'reference') });
      await putTinyModel(reference, 3);
      const expected = await runPruneInProcess(input, { store: reference });
      assert.equal(result.modelArtifactId, expected.modelArtifactId, 'the same model as on a disk store');
      assert.ok((await bucket.get(result.modelArtifactId)).equals(await reference.get(expected.modelArtifactId)));

      const text = await (await fetch(metricsUrl)).text();
      const value = (series: string): number => Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? NaN);
      assert.equal(value('ippro_orchestrator_shards_done_total{activity="evaluateShard"}'), 4, 'two evaluation shards for the baseline and two for the round');
      assert.equal(value('ippro_orchestrator_round{run_id="on-s3"}'), 1);
      assert.ok(value('ippro_orchestrator_artifact_bytes_total{direction="put"}') > 0);
      assert.ok(value('ippro_orchestrator_images_total{activity="evaluateShard"}') > 0);

      const lines = stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.ok(lines.some((line) => line['msg'] === 'evaluateShard done' && line['runId'] === 'on-s3' && line['round'] === 1 && /^eval\d$/.test(String(line['shard']))), stderr);
      assert.ok(lines.some((line) => String(line['msg']).includes(`artifacts: s3://${BUCKET}/orchestrator`)));
    } finally {
      await client.connection.close();
      bucket.close();
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    }
  });
});
