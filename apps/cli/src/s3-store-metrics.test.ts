import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ArtifactStore } from '@ippro/artifact-store';
import { startSeaweedFs, seaweedFsForTests } from '@ippro/artifact-store/testing';
import type { SeaweedFs } from '@ippro/artifact-store/testing';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildSmallCnn } from '@ippro/models';
import { initRuntime } from '@ippro/runtime';
import { runCli, splitRun } from './testing/run-cli';

/**
 * The cluster configuration on loopback: `ippro dev --store s3://...` (workers and orchestrator
 * share a SeaweedFS bucket instead of streaming through the artifact service) with metrics on,
 * `ippro prune --store` uploading to and downloading from the bucket; the model equals
 * `ippro prune --local` (disk store) byte for byte, the metrics endpoints are scraped during the
 * run and their counters move, and the logs are JSON with the run, round and shard ids.
 */
const weed = seaweedFsForTests();
const BUCKET = 'ippro-e2e';
const scratch = mkdtempSync(join(tmpdir(), 'ippro-s3-e2e-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const modelDir = join(scratch, 'tiny-cnn');
const BIN = join(__dirname, '..', 'bin', 'ippro.js');

const PRUNE_ARGS = [
  '--data', 'synthetic:cifar?n=32&seed=1&classes=10',
  '--eval-data', 'synthetic:cifar?n=32&seed=3&classes=10',
  '--target-channels', '0.3', '--rounds', '2', '--lambda', '1',
  '--finetune-steps', '2', '--finetune-lr', '0.05', '--replicas', '2', '--repetitions', '2',
  '--batch-size', '8', '--eval-batch-size', '8', '--score-shards', '2', '--layer-shards', '2', '--max-parallel', '2',
  '--seed', '7', '--backend', 'cpu',
];

let seaweed: SeaweedFs;
let localOut: string;

function s3Env(): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: seaweed.accessKeyId, AWS_SECRET_ACCESS_KEY: seaweed.secretAccessKey };
}

/** Sum of the samples of a metric whose labels contain every `labels` pair (all series when none). */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => set.includes(`${key}="${value}"`))) sum += Number(match[3]);
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return response.text();
}

function files(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

before(async () => {
  if (weed.skip !== false) return;
  await initRuntime({ backend: 'cpu' });
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 10, seed: 1 });
  await saveLayersModelToDir(model, modelDir);
  model.dispose();
  localOut = join(scratch, 'local');
  const local = runCli(['prune', '--local', '--model', modelDir, ...PRUNE_ARGS, '--out', localOut, '--json']);
  assert.equal(local.status, 0, local.stderr);
  seaweed = await startSeaweedFs({ buckets: [BUCKET], ...(weed.weedPath === undefined ? {} : { weedPath: weed.weedPath }) });
});

after(async () => {
  await seaweed?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('a run on a shared S3 bucket equals the disk-store run byte for byte; metrics move during it; logs carry run, round and shard', { skip: weed.skip }, async () => {
  const stateDir = join(scratch, 'dev');
  const logFile = join(scratch, 'dev.log');
  const store = ['--store', `s3://${BUCKET}/dev`, '--s3-endpoint', seaweed.endpoint];
  const fd = openSync(logFile, 'w');
  const dev: ChildProcess = spawn(
    process.execPath,
    [BIN, 'dev', '--workers', '2', '--backend', 'cpu', '--no-ui', '--verbose', '--state-dir', stateDir, '--metrics-port', '0', ...store],
    { stdio: ['ignore', fd, fd], env: { ...process.env, ...s3Env() } },
  );
  const devExited = new Promise<number | null>((done) => dev.once('exit', (code) => done(code)));
  try {
    const deadline = Date.now() + 90_000;
    while (!existsSync(join(stateDir, 'dev.json'))) {
      if (dev.exitCode !== null || Date.now() > deadline) throw new Error(`ippro dev did not start:\n${readFileSync(logFile, 'utf8')}`);
      await new Promise((done) => setTimeout(done, 200));
    }
    const info = JSON.parse(readFileSync(join(stateDir, 'dev.json'), 'utf8')) as { store: string; metrics: { orchestrator: string; workers: string[] } };
    assert.equal(info.store, `s3://${BUCKET}/dev`);
    assert.equal(info.metrics.workers.length, 2);
    const endpoints = [info.metrics.orchestrator, ...info.metrics.workers];
    const workerDone = async (): Promise<number> => {
      let sum = 0;
      for (const url of info.metrics.workers) sum += total(await scrape(url), 'ippro_worker_shards_done_total');
      return sum;
    };
    assert.equal(await workerDone(), 0, 'no call before the run');

    const out = join(scratch, 's3-out');
    const prune = spawn(process.execPath, [BIN, 'prune', '--model', modelDir, ...PRUNE_ARGS, '--state-dir', stateDir, ...store, '--out', out, '--json', '--run-id', 's3-run'], {
      env: { ...process.env, ...s3Env() },
    });
    let stdout = '';
    let stderr = '';
    prune.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    prune.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const pruned = new Promise<number | null>((done) => prune.once('exit', (code) => done(code)));
    const during: number[] = [];
    let finished = false;
    void pruned.then(() => (finished = true));
    while (!finished) {
      during.push(await workerDone());
      await new Promise((done) => setTimeout(done, 250));
    }
    assert.equal(await pruned, 0, `${stderr}\n${readFileSync(logFile, 'utf8').slice(-4000)}`);

    // The same bytes as the in-process run on a disk store; the result came from the bucket.
    const local = files(localOut);
    const remote = files(out);
    assert.ok(local['weights.bin']?.equals(remote['weights.bin'] as Buffer), 'weights.bin differs');
    assert.ok(local['model.json']?.equals(remote['model.json'] as Buffer), 'model.json differs');
    assert.deepEqual(splitRun(remote['summary.json']).result, splitRun(local['summary.json']).result);
    assert.match(String(splitRun(remote['summary.json']).config['store']), /^s3:\/\//);
    const result = JSON.parse(stdout) as { modelArtifactId: string; history: unknown[] };
    const bucket = await S3ArtifactStore.open({
      bucket: BUCKET,
      prefix: 'dev',
      endpoint: seaweed.endpoint,
      credentials: { accessKeyId: seaweed.accessKeyId, secretAccessKey: seaweed.secretAccessKey },
    });
    try {
      assert.ok(await bucket.has(result.modelArtifactId), 'the pruned model is in the bucket');
    } finally {
      bucket.close();
    }

    // The counters moved while the run went on, and add up.
    const final = await workerDone();
    assert.ok(final > 0);
    assert.ok(during.some((value) => value > 0 && value < final), `worker shards done while running: ${during.join(',')}; final ${final}`);
    for (let index = 1; index < during.length; index += 1) assert.ok((during[index] as number) >= (during[index - 1] as number), 'counters never go back');
    const [orchestrator, ...workers] = await Promise.all(endpoints.map(scrape));
    assert.ok(orchestrator !== undefined);
    assert.equal(total(orchestrator, 'ippro_orchestrator_shards_done_total'), final, 'every call the workers finished is an activity the orchestrator finished');
    assert.equal(total(orchestrator, 'ippro_orchestrator_shards_failed_total'), 0);
    assert.equal(total(orchestrator, 'ippro_orchestrator_round', { run_id: 's3-run' }), result.history.length);
    assert.equal(total(orchestrator, 'ippro_orchestrator_phase', { run_id: 's3-run' }), 1, 'one current phase');
    assert.equal(total(orchestrator, 'ippro_orchestrator_phase', { run_id: 's3-run', phase: 'evaluating' }), 1);
    assert.ok(total(orchestrator, 'ippro_orchestrator_images_total', { activity: 'computeGradStats' }) > 0);
    assert.ok(total(orchestrator, 'ippro_orchestrator_artifact_bytes_total', { direction: 'get' }) > 0);
    assert.ok(total(orchestrator, 'ippro_orchestrator_artifact_bytes_total', { direction: 'put' }) > 0);
    assert.ok(total(orchestrator, 'ippro_orchestrator_activity_duration_seconds_count', { activity: 'applySurgery', outcome: 'done' }) >= 1);
    const sum = (name: string, labels: Record<string, string> = {}): number => workers.reduce((acc, text) => acc + total(text, name, labels), 0);
    assert.ok(sum('ippro_worker_images_total', { operation: 'FineTune' }) > 0);
    assert.ok(sum('ippro_worker_images_per_second') > 0);
    assert.equal(sum('ippro_worker_rpc_duration_seconds_count', { code: 'OK' }), final);
    assert.ok(sum('ippro_worker_artifact_bytes_total', { direction: 'get' }) > 0);
    assert.ok(sum('ippro_worker_artifact_bytes_total', { direction: 'put' }) > 0);
    assert.equal(sum('ippro_worker_active_calls'), 0);

    // JSON log lines with the ids: the workers' (through ippro dev --verbose) and the activities'.
    const logged = readFileSync(logFile, 'utf8')
      .split('\n')
      .map((line) => /^(?:worker \d+: )?(\{.*\})$/.exec(line)?.[1])
      .filter((json): json is string => json !== undefined)
      .map((json) => JSON.parse(json) as Record<string, unknown>);
    const workerLine = logged.find((entry) => entry['name'] === 'ippro-worker' && entry['method'] === 'ComputeGradStats' && entry['runId'] === 's3-run');
    assert.ok(workerLine !== undefined, 'a worker line of the run');
    assert.equal(typeof workerLine['round'], 'number');
    assert.match(String(workerLine['shard']), /^s\d+$/);
    const activityLine = logged.find((entry) => entry['name'] === 'ippro-dev' && entry['activity'] === 'fineTuneReplica' && entry['runId'] === 's3-run');
    assert.ok(activityLine !== undefined, 'an activity line of the run');
    assert.match(String(activityLine['shard']), /^m\d+\/replica\d+$/);
    assert.ok(Number(activityLine['round']) >= 1);
  } finally {
    dev.kill('SIGINT');
    assert.equal(await devExited, 0, readFileSync(logFile, 'utf8').slice(-4000));
  }
});
