import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ArtifactStore, artifactKeyOf } from '@ippro/artifact-store';
import { ArtifactClient, startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer } from '@ippro/protocol';
import { WorkerClient } from '@ippro/compute';
import { resolveDataset } from '@ippro/data';
import { buildChannelGraph } from '@ippro/graph';
import { serializeGradStats } from '@ippro/importance';
import { modelFromArtifact, modelToArtifact } from '@ippro/model-artifact';
import { buildSmallCnn } from '@ippro/models';
import { computeShard, layerShards } from '@ippro/pruning';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

const MAIN = join(__dirname, 'main.js');
const SPEC = 'synthetic:cifar?n=3000&seed=2&classes=4';
const inference = { batchNormMode: 'BATCH_NORM_MODE_INFERENCE' as const, includeBias: false };

let scratch: string;
let artifactServer: ArtifactServer;
let artifacts: ArtifactClient;
let modelBytes: Buffer;
let modelId: string;

before(async () => {
  await tf.setBackend('cpu');
  scratch = mkdtempSync(join(tmpdir(), 'ippro-worker-process-'));
  const store = await ArtifactStore.open({ root: join(scratch, 'store'), fsync: false });
  artifactServer = await startArtifactServer({ store });
  artifacts = new ArtifactClient(artifactServer.address);
  modelBytes = modelToArtifact(buildSmallCnn({ widths: [2, 4], numClasses: 4, seed: 5 }));
  modelId = (await artifacts.putArtifact(modelBytes)).key;
});

after(async () => {
  artifacts.close();
  await artifactServer.close(500);
  rmSync(scratch, { recursive: true, force: true });
});

interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  address: string;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Spawns `node apps/worker/dist/main.js` and waits for its "listening on" line. */
async function spawnWorker(extra: string[] = []): Promise<WorkerProcess> {
  const args = [MAIN, '--host', '127.0.0.1', '--port', '0', '--backend', 'cpu', '--artifacts', artifactServer.address, '--cache-dir', mkdtempSync(join(scratch, 'cache-')), ...extra];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the worker did not start: ${stderr}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the worker exited with ${code}: ${stderr}`)));
  });
  return { child, address, exited, stderr: () => stderr };
}

function firstProgress(): { seen: Promise<void>; onProgress: () => void } {
  let onProgress: () => void = () => undefined;
  const seen = new Promise<void>((resolve) => {
    onProgress = resolve;
  });
  return { seen, onProgress: () => onProgress() };
}

describe('the worker process', () => {
  it('serves ComputeGradStats equal to the in-process computeShard, and on SIGTERM finishes the running call and exits 0', async () => {
    const worker = await spawnWorker(['--slots', '2', '--worker-id', 'test-worker']);
    const client = new WorkerClient(worker.address);
    try {
      const capabilities = await client.getCapabilities();
      assert.deepEqual([capabilities.workerId, capabilities.backend, capabilities.slots], ['test-worker', 'cpu', 2]);
      const model = await modelFromArtifact(modelBytes);
      const graph = buildChannelGraph(model);
      const shard = { batches: { start: 3, end: 5 }, groups: layerShards(graph, 2)[1] ?? [] };
      const result = await client.computeGradStats({ modelArtifactId: modelId, dataset: { spec: SPEC }, batches: shard.batches, batchSize: 16, groupIds: shard.groups, criterion: inference });
      const local = await computeShard(model, graph, resolveDataset(SPEC), shard, { datasetId: SPEC, batchSize: 16, modelHash: modelId });
      model.dispose();
      assert.equal(result.statsArtifactId, artifactKeyOf(serializeGradStats(local)));

      const { seen, onProgress } = firstProgress();
      const running = client.evaluate({ modelArtifactId: modelId, dataset: { spec: SPEC }, batches: { start: 0, end: 40 }, batchSize: 10 }, { onProgress });
      await seen;
      worker.child.kill('SIGTERM');
      assert.equal((await running).count, 400);
      assert.equal(await worker.exited, 0, worker.stderr());
      assert.match(worker.stderr(), /SIGTERM: shutting down; finishing 1 running call/);
    } finally {
      client.close();
      worker.child.kill('SIGKILL');
    }
  });

  it('with --abort-on-term aborts the running call with UNAVAILABLE and exits 0', async () => {
    const worker = await spawnWorker(['--abort-on-term']);
    const client = new WorkerClient(worker.address);
    try {
      const { seen, onProgress } = firstProgress();
      const running = client.evaluate({ modelArtifactId: modelId, dataset: { spec: SPEC }, batches: { start: 0, end: 300 }, batchSize: 10 }, { onProgress });
      running.catch(() => undefined);
      await seen;
      const signalled = Date.now();
      worker.child.kill('SIGTERM');
      await assert.rejects(running, (error: grpc.ServiceError) => error.code === grpc.status.UNAVAILABLE && /aborted Evaluate/.test(error.details));
      assert.equal(await worker.exited, 0, worker.stderr());
      assert.ok(Date.now() - signalled < 5000, 'the worker took too long to stop');
    } finally {
      client.close();
      worker.child.kill('SIGKILL');
    }
  });

  it('exits 2 on a bad flag, naming it', async () => {
    const child = spawn(process.execPath, [MAIN, '--slots', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /--slots must be an integer >= 1, got 'many'/);
  });
});
