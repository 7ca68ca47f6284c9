import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ArtifactStore } from '@ippro/artifact-store';
import { startArtifactServer } from '@ippro/protocol';
import type { ArtifactServer } from '@ippro/protocol';
import { WorkerClient, startWorker } from '@ippro/compute';
import type { WorkerHandle } from '@ippro/compute';
import { GrpcExecutor } from './grpc-executor';
import { EVALUATION_SPEC, putTinyModel } from './testing/tiny-config';

// Two real workers on loopback that compute on different numeric paths: a cpu worker in this
// process and a wasm worker in a child process (tfjs keeps one backend per process).

const dir = mkdtempSync(join(tmpdir(), 'ippro-pool-fingerprint-'));
let store: ArtifactStore;
let server: ArtifactServer;
let cpu: WorkerHandle;
let wasm: { process: ChildProcess; address: string; fingerprint: string };
let modelId: string;

/** Starts a wasm worker in a child process; resolves once it listens. */
function startWasmWorker(artifacts: string): Promise<{ process: ChildProcess; address: string; fingerprint: string }> {
  const script = `
    const { startWorker } = require('@ippro/compute');
    startWorker({ backend: 'wasm', artifacts: ${JSON.stringify(artifacts)}, cacheDir: ${JSON.stringify(join(dir, 'cache-wasm'))} })
      .then((worker) => console.log(JSON.stringify({ address: worker.address, fingerprint: worker.kernelFingerprint })))
      .catch((error) => { console.error(error.message); process.exit(2); });`;
  // `node -e` resolves packages from its working directory: this one's, as the test does.
  const child = spawn(process.execPath, ['-e', script], { cwd: __dirname, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line !== undefined) resolve({ process: child, ...(JSON.parse(line) as { address: string; fingerprint: string }) });
    });
    child.on('exit', (code) => reject(new Error(`the wasm worker exited (${code}): ${err}`)));
  });
}

before(async () => {
  store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: false });
  server = await startArtifactServer({ store });
  cpu = await startWorker({ backend: 'cpu', artifacts: server.address, cacheDir: join(dir, 'cache-cpu'), log: () => undefined });
  wasm = await startWasmWorker(server.address);
  modelId = await putTinyModel(store);
});

after(async () => {
  await cpu.shutdown({ abort: true, graceMs: 1000 }).catch(() => undefined);
  wasm.process.kill('SIGKILL');
  await server.close(200);
  rmSync(dir, { recursive: true, force: true });
});

const evaluation = (jobId: string) => ({ jobId, modelArtifactId: modelId, dataset: { spec: EVALUATION_SPEC }, batches: { start: 0, end: 4 }, batchSize: 8 });

test('the workers of a mixed pool report different kernel fingerprints', async () => {
  const client = new WorkerClient(wasm.address);
  try {
    const capabilities = await client.getCapabilities();
    assert.equal(capabilities.backend, 'wasm');
    assert.equal(capabilities.kernelFingerprint, wasm.fingerprint);
  } finally {
    client.close();
  }
  assert.match(cpu.kernelFingerprint, /^[0-9a-f]{16}$/);
  assert.notEqual(cpu.kernelFingerprint, wasm.fingerprint);
});

test("a pinned run's calls go only to the worker with the run's fingerprint, on either path", async () => {
  const executor = new GrpcExecutor({ workers: `${cpu.address},${wasm.address}` });
  try {
    assert.equal(await executor.checkWorkers(), 2);
    for (const [fingerprint, address] of [
      [cpu.kernelFingerprint, cpu.address],
      [wasm.fingerprint, wasm.address],
    ] as const) {
      const served = new Set<string>();
      // Four at once: unpinned, two would go to each worker (one slot each); pinned, they queue for one.
      const results = await Promise.all(
        [0, 1, 2, 3].map((index) => executor.evaluate(evaluation(`pinned/${index}`), { fingerprint, onProgress: (progress) => progress.worker !== undefined && served.add(progress.worker) })),
      );
      assert.deepEqual([...served], [address]);
      for (const result of results) assert.deepEqual(result, results[0]);
    }
  } finally {
    executor.close();
  }
});

test('the pool fingerprint a new run pins is one the pool has (the most slots, ties to the smaller), with the path its workers report', async () => {
  const paths = new Map([
    [cpu.kernelFingerprint, { backend: 'cpu', threads: 1, tfjs: tf.version_core }],
    [wasm.fingerprint, { backend: 'wasm', threads: 1, tfjs: tf.version_core }],
  ]);
  const executor = new GrpcExecutor({ workers: `${cpu.address},${wasm.address}` });
  try {
    const pinned = [cpu.kernelFingerprint, wasm.fingerprint].sort()[0] as string;
    assert.deepEqual(await executor.poolFingerprint(), { fingerprint: pinned, ...paths.get(pinned) });
  } finally {
    executor.close();
  }
  const cpuOnly = new GrpcExecutor({ workers: cpu.address });
  try {
    assert.deepEqual(await cpuOnly.poolFingerprint(), { fingerprint: cpu.kernelFingerprint, backend: 'cpu', threads: 1, tfjs: tf.version_core });
  } finally {
    cpuOnly.close();
  }
});

test("with no worker of the run's fingerprint the call fails, retryably, naming the run's fingerprint and every worker's, and logs it", async () => {
  const lines: string[] = [];
  const executor = new GrpcExecutor({ workers: `${cpu.address},${wasm.address}`, waitForWorkerMs: 300, log: (line) => lines.push(line) });
  const gpu = 'feedfacecafebeef';
  try {
    await assert.rejects(executor.evaluate(evaluation('mismatch/0'), { fingerprint: gpu }), (error: unknown) => {
      assert.ok(error instanceof Error);
      // A plain Error: not a ComputeInputError, so the activity is retried (a matching worker may come back).
      assert.equal(error.constructor, Error);
      assert.match(error.message, /^Evaluate mismatch\/0: no healthy worker in the pool has the run's kernel fingerprint feedfacecafebeef/);
      assert.ok(error.message.includes(`${cpu.address} -> ${cpu.kernelFingerprint} (cpu, 1 thread)`), error.message);
      assert.ok(error.message.includes(`${wasm.address} -> ${wasm.fingerprint} (wasm, 1 thread)`), error.message);
      return true;
    });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /kernel fingerprint feedfacecafebeef/);
    assert.deepEqual(executor.pool.list().map((worker) => worker.inFlight), [0, 0]);
    assert.equal(cpu.service.activeCalls, 0);
  } finally {
    executor.close();
  }
});
