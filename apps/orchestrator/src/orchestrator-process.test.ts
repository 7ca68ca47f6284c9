import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runPruneInProcess } from '@ippro/activities';
import { putTinyModel, tinyInput } from '@ippro/activities/testing';
import { ArtifactStore } from '@ippro/artifact-store';
import { connectTemporalClient } from '@ippro/orchestration';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { resultWithoutTiming } from '@ippro/workflow-core';
import { progressQuery, pruneModel } from '@ippro/workflows';

const MAIN = join(__dirname, 'main.js');

let dir: string;
let server: DevServer;
let bundle: string;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-orchestrator-app-'));
  server = await startDevServer({ dbFile: join(dir, 'temporal.db') });
  // Bundled once, as a production build would; every process below starts from it.
  bundle = join(dir, 'workflow-bundle.js');
  const written = spawnSync(process.execPath, [MAIN, '--write-bundle', bundle], { encoding: 'utf8' });
  assert.equal(written.status, 0, written.stderr);
});

after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ippro-orchestrator', () => {
  it('refuses a bad flag with exit code 2', () => {
    const run = spawnSync(process.execPath, [MAIN, '--artifacts', dir, '--max-activities', 'zero'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--max-activities must be a positive integer, got 'zero'/);
  });

  it('refuses, before any work, plaintext calls to workers beyond loopback and serving its store beyond loopback without mutual TLS (exit 2)', () => {
    const toWorkers = spawnSync(process.execPath, [MAIN, '--address', server.address, '--artifacts', dir, '--workers', '10.1.2.3:7071,10.1.2.4:7071', '--serve-artifacts', '127.0.0.1:0'], { encoding: 'utf8' });
    assert.equal(toWorkers.status, 2, toWorkers.stderr);
    assert.match(toWorkers.stderr, /a worker at 10\.1\.2\.3:7071 is beyond loopback and would be reached without mutual TLS: give --workers-ca, --workers-cert and --workers-key/);
    const serving = spawnSync(process.execPath, [MAIN, '--address', server.address, '--artifacts', dir, '--workers', '127.0.0.1:7071'], { encoding: 'utf8' });
    assert.equal(serving.status, 2, serving.stderr);
    assert.match(serving.stderr, /the artifact service would listen on 0\.0\.0\.0:7070, beyond loopback, without TLS: give --artifacts-tls-cert, --artifacts-tls-key and --artifacts-tls-ca/);
  });

  it('runs a prune from a pre-built workflow bundle and stops on SIGTERM with exit code 0', async () => {
    assert.ok(existsSync(bundle));

    const storeDir = join(dir, 'store');
    const modelId = await putTinyModel(await ArtifactStore.open({ root: storeDir }));
    const child = spawn(
      process.execPath,
      [MAIN, '--address', server.address, '--namespace', server.namespace, '--task-queue', 'app-test', '--artifacts', storeDir, '--backend', 'cpu', '--workflow-bundle', bundle],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes("orchestrator: task queue 'app-test'")) resolve();
      });
      void exited.then((code) => reject(new Error(`the orchestrator exited with ${code}: ${stderr}`)));
    });

    const client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
    try {
      const input = tinyInput(modelId, { criterion: 'l1', plan: { target: { metric: 'params', fraction: 0.2 }, rounds: 1 } });
      delete input.fineTune;
      delete input.scoring;
      const result = await client.workflow.execute(pruneModel, { args: [input], taskQueue: 'app-test', workflowId: 'app-l1' });
      assert.equal(result.history.length, 1);
      assert.ok((result.history[0]?.params ?? Infinity) < result.baseline.params);
    } finally {
      await client.connection.close();
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});

describe('ippro-orchestrator killed mid-run', () => {
  it('another orchestrator finishes the run with the same model as an uninterrupted in-process run', async () => {
    const storeDir = join(dir, 'kill-store');
    const store = await ArtifactStore.open({ root: storeDir });
    const modelId = await putTinyModel(store, 4);
    // A short heartbeat timeout: the killed process's activity is retried after 3 s.
    const input = tinyInput(modelId, { plan: { target: { metric: 'channels', fraction: 0.4 }, rounds: 2 }, activity: { heartbeatSeconds: 3 } });
    const args = [MAIN, '--address', server.address, '--namespace', server.namespace, '--task-queue', 'kill-test', '--artifacts', storeDir, '--backend', 'cpu', '--workflow-bundle', bundle];
    const client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
    try {
      const first = await startProcess(args);
      const handle = await client.workflow.start(pruneModel, { args: [input], taskQueue: 'kill-test', workflowId: 'killed' });
      // Killed in round 2, whichever of its phases a poll sees: its shards can all end between two
      // polls, so waiting for a shard count could miss the round.
      await until(async () => {
        const progress = await handle.query(progressQuery);
        return progress.history.length === 1 && progress.round === 2 && progress.roundPhases.some((phase) => phase === progress.phase);
      });
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, null, 'killed');
      const second = await startProcess(args);
      const result = await handle.result();
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.stderr());

      const referenceStore = await ArtifactStore.open({ root: join(dir, 'kill-reference') });
      await putTinyModel(referenceStore, 4);
      const reference = await runPruneInProcess(input, { store: referenceStore });
      // The rounds' timings are the only part of a result two runs differ in.
      assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference));
      assert.ok((await store.get(result.modelArtifactId)).equals(await referenceStore.get(reference.modelArtifactId)));
    } finally {
      await client.connection.close();
    }
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startProcess(args: string[]): Promise<{ child: ChildProcess; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('orchestrator: task queue')) resolve();
    });
    void exited.then((code) => reject(new Error(`the orchestrator exited with ${code}: ${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}
