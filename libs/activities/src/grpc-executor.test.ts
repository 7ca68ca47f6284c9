import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '@ippro/artifact-store';
import { startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer } from '@ippro/protocol';
import { WorkerClient, startWorker } from '@ippro/compute';
import type { WorkerHandle } from '@ippro/compute';
import { ComputeInputError } from '@ippro/compute-core';
import { GrpcExecutor } from './grpc-executor';
import { InProcessExecutor } from './in-process-executor';
import { WorkerPool, WorkerPoolSpecError, parseWorkerPool } from './worker-pool';
import { EVALUATION_SPEC, TUNING_SPEC, putTinyModel } from './testing/tiny-config';

const dir = mkdtempSync(join(tmpdir(), 'ippro-grpc-executor-'));
let store: ArtifactStore;
let server: ArtifactServer;
let workers: WorkerHandle[] = [];
let modelId: string;

before(async () => {
  store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: false });
  server = await startArtifactServer({ store });
  for (const name of ['a', 'b']) {
    workers.push(await startWorker({ backend: 'cpu', artifacts: server.address, cacheDir: join(dir, `cache-${name}`), log: () => undefined }));
  }
  modelId = await putTinyModel(store);
});

after(async () => {
  for (const worker of workers) await worker.shutdown({ abort: true, graceMs: 1000 }).catch(() => undefined);
  await server.close(200);
  rmSync(dir, { recursive: true, force: true });
});

const evaluation = (batches = { start: 0, end: 4 }) => ({ jobId: 't/eval', modelArtifactId: modelId, dataset: { spec: EVALUATION_SPEC }, batches, batchSize: 8 });

test('parseWorkerPool: lists, dns names, and an empty pool', () => {
  assert.deepEqual(parseWorkerPool('a:1, b:2,a:1'), { kind: 'list', addresses: ['a:1', 'b:2'] });
  assert.deepEqual(parseWorkerPool('dns:workers.ippro.svc:7071'), { kind: 'dns', name: 'workers.ippro.svc', port: 7071 });
  assert.throws(() => parseWorkerPool(' , '), WorkerPoolSpecError);
  assert.throws(() => parseWorkerPool('a:port'), /not a port/);
  assert.throws(() => parseWorkerPool('dns:name'), /dns:NAME:PORT/);
});

test('a health check that times out leaves a worker computing calls in the pool, and takes an idle one out', async () => {
  const options = { checkTimeoutMs: 3000 };
  const pool = new WorkerPool({ kind: 'list', addresses: [workers[0]?.address ?? ''] }, options);
  try {
    await pool.refresh(true);
    const [worker] = pool.list();
    assert.ok(worker !== undefined);
    assert.equal(worker.healthy, true);
    // A deadline already past: the check fails with DEADLINE_EXCEEDED, as behind a step that outlasts it.
    options.checkTimeoutMs = 0;
    worker.inFlight = 1;
    await pool.refresh(true);
    assert.equal(worker.healthy, true, 'busy, not gone');
    assert.equal(pool.healthyCount(), 1);
    assert.match(worker.lastError ?? '', /unanswered within 0 ms while computing 1 call/);
    worker.inFlight = 0;
    await pool.refresh(true);
    assert.equal(worker.healthy, false, 'idle and unanswering');
    assert.match(worker.lastError ?? '', /Deadline exceeded/);
  } finally {
    pool.close();
  }
});

test('calls over gRPC equal the in-process executor, spread over the least-loaded workers', async () => {
  const executor = new GrpcExecutor({ workers: workers.map((worker) => worker.address).join(',') });
  try {
    assert.equal(await executor.checkWorkers(), 2);
    const local = new InProcessExecutor({ store });
    const progress: number[] = [];
    const remote = await executor.evaluate(evaluation(), { onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(remote, await local.evaluate(evaluation()));
    assert.deepEqual(progress, [1, 2, 3, 4]);
    const tune = { jobId: 't/tune', startModelArtifactId: modelId, dataset: { spec: TUNING_SPEC }, replica: { index: 0, count: 2 }, batchSize: 4, steps: 2, firstStep: 0,
      optimizer: { learningRate: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0, labelSmoothing: 0 }, seed: 7, augment: true };
    // Two at once: one per worker (each has one slot).
    const [first, second] = await Promise.all([executor.fineTune(tune), executor.fineTune({ ...tune, replica: { index: 1, count: 2 } })]);
    assert.deepEqual(first, await local.fineTune(tune));
    assert.deepEqual(second, await local.fineTune({ ...tune, replica: { index: 1, count: 2 } }));
    assert.deepEqual(executor.pool.list().map((worker) => worker.inFlight), [0, 0]);
  } finally {
    executor.close();
  }
});

test('INVALID_ARGUMENT is a ComputeInputError with the worker\'s message, not retried', async () => {
  const lines: string[] = [];
  const executor = new GrpcExecutor({ workers: workers.map((worker) => worker.address).join(','), log: (line) => lines.push(line) });
  try {
    await assert.rejects(executor.evaluate(evaluation({ start: 0, end: 99 })), (error: unknown) => {
      assert.ok(error instanceof ComputeInputError, String(error));
      assert.equal(error.type, 'InvalidArgument');
      assert.match(error.message, /batches \[0, 99\)/);
      return true;
    });
    assert.deepEqual(lines, [], 'no retry');
  } finally {
    executor.close();
  }
});

test('aborting the signal cancels the gRPC call: the worker stops and frees its slot', async () => {
  const executor = new GrpcExecutor({ workers: workers.map((worker) => worker.address).join(',') });
  try {
    const controller = new AbortController();
    let progressCalls = 0;
    const call = executor.evaluate(evaluation(), {
      signal: controller.signal,
      onProgress: () => {
        progressCalls += 1;
        controller.abort(new Error('activity cancelled'));
      },
    });
    await assert.rejects(call, /activity cancelled/);
    assert.equal(progressCalls, 1, 'no progress after the abort');
    for (let tries = 0; tries < 50 && workers.some((worker) => worker.service.activeCalls > 0); tries += 1) await new Promise((done) => setTimeout(done, 20));
    assert.deepEqual(workers.map((worker) => worker.service.activeCalls), [0, 0]);
    assert.deepEqual(executor.pool.list().map((worker) => worker.inFlight), [0, 0]);
  } finally {
    executor.close();
  }
});

test('a worker whose slots are taken by another client (RESOURCE_EXHAUSTED) is retried on another worker', async () => {
  const lines: string[] = [];
  const sorted = [...workers].sort((a, b) => a.address.localeCompare(b.address));
  const busy = sorted[0] as WorkerHandle;
  const executor = new GrpcExecutor({ workers: sorted.map((worker) => worker.address).join(','), log: (line) => lines.push(line) });
  const other = new WorkerClient(busy.address);
  try {
    assert.equal(await executor.checkWorkers(), 2);
    // Another orchestrator's long call holds the busy worker's only slot.
    let started!: () => void;
    const stopOther = new AbortController();
    const running = new Promise<void>((done) => (started = done));
    const long = other.fineTune(
      { jobId: 'other', startModelArtifactId: modelId, dataset: { spec: TUNING_SPEC }, replica: { index: 0, count: 1 }, batchSize: 4, steps: 400, firstStep: 0,
        optimizer: { learningRate: 0.01, momentum: 0.9 }, seed: 1 },
      { onProgress: () => started(), signal: stopOther.signal },
    );
    long.catch(() => undefined);
    await running;
    const result = await executor.evaluate(evaluation());
    assert.equal(result.count, 32);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', new RegExp(`worker ${busy.address} failed \\(RESOURCE_EXHAUSTED`));
    stopOther.abort();
    await long.catch(() => undefined);
  } finally {
    other.close();
    executor.close();
  }
});

test('a stopped worker (UNAVAILABLE) is retried on another worker', async () => {
  const lines: string[] = [];
  const sorted = [...workers].sort((a, b) => a.address.localeCompare(b.address));
  const [stopped, alive] = [sorted[0] as WorkerHandle, sorted[1] as WorkerHandle];
  // A long refresh interval: the pool still believes the stopped worker is healthy and picks it first.
  const executor = new GrpcExecutor({ workers: sorted.map((worker) => worker.address).join(','), refreshMs: 600_000, log: (line) => lines.push(line) });
  try {
    assert.equal(await executor.checkWorkers(), 2);
    await stopped.shutdown({ abort: true, graceMs: 500 });
    workers = workers.filter((worker) => worker !== stopped);
    const result = await executor.evaluate(evaluation());
    assert.equal(result.count, 32);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', new RegExp(`worker ${stopped.address} failed \\(UNAVAILABLE`));
    const states = Object.fromEntries(executor.pool.list().map((worker) => [worker.address, worker.healthy]));
    assert.deepEqual(states, { [stopped.address]: false, [alive.address]: true });
  } finally {
    executor.close();
  }
});
