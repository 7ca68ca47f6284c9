import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '@ippro/artifact-store';
import { ArtifactClient, startArtifactServer } from '@ippro/protocol';
import { resolveDataset } from '@ippro/data';
import { datasetToArtifact, modelToArtifact } from '@ippro/model-artifact';
import { buildResNetCifar } from '@ippro/models';
import type { BackendRequest } from '@ippro/runtime';
import * as tfl from '@tensorflow/tfjs-layers';
import { WorkerClient } from './worker-client';
import { startWorker } from './worker-server';

export interface CallOverheadOptions {
  /** Timed calls (after `warmup` untimed ones). Default 50. */
  calls?: number;
  warmup?: number;
  backend?: BackendRequest;
  /** fsync artifacts in the artifact service's store (as a real one does). Default true. */
  fsync?: boolean;
}

export interface CallOverheadResult {
  backend: string;
  calls: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

/** A 4-feature, 3-class dense model: a ComputeGradStats on it costs almost nothing but the call. */
function trivialModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [4], name: 'features' });
  const hidden = tfl.layers.dense({ units: 3, activation: 'relu', name: 'hidden', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(hidden) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'trivial' });
}

/** A dataset artifact of `size` samples of 4 features, 3 classes. */
function trivialDataset(size: number): Buffer {
  const values = Array.from({ length: size * 4 }, (_, index) => Math.sin(index));
  return datasetToArtifact({
    description: 'trivial',
    size,
    sampleShape: [4],
    numClasses: 3,
    label: (index) => index % 3,
    writeSample: (index, target, offset) => target.set(values.slice(index * 4, index * 4 + 4), offset),
  });
}

/**
 * The wall time of one trivial ComputeGradStats call, end to end on loopback: an in-process
 * worker and artifact service, a cached 2-layer model, one batch of one sample; the time covers
 * the call, the model build from the cached artifact, the channel graph, one forward and
 * backward pass, serialising the statistics and putting them to the artifact service.
 */
export async function measureCallOverhead(options: CallOverheadOptions = {}): Promise<CallOverheadResult> {
  const calls = options.calls ?? 50;
  const warmup = options.warmup ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'ippro-worker-bench-'));
  const store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: options.fsync ?? true });
  const artifactServer = await startArtifactServer({ store });
  const worker = await startWorker({ backend: options.backend ?? 'cpu', artifacts: artifactServer.address, cacheDir: join(dir, 'cache') });
  const artifacts = new ArtifactClient(artifactServer.address);
  const client = new WorkerClient(worker.address);
  try {
    const model = trivialModel();
    const modelId = (await artifacts.putArtifact(modelToArtifact(model))).key;
    model.dispose();
    const dataId = (await artifacts.putArtifact(trivialDataset(1))).key;
    const request = {
      modelArtifactId: modelId,
      dataset: { artifactId: dataId },
      batches: { start: 0, end: 1 },
      batchSize: 1,
      criterion: { batchNormMode: 'BATCH_NORM_MODE_INFERENCE' as const },
    };
    const times: number[] = [];
    for (let index = 0; index < warmup + calls; index += 1) {
      const started = process.hrtime.bigint();
      await client.computeGradStats({ ...request, jobId: `bench ${index}` });
      if (index >= warmup) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    return { backend: worker.backend, calls, medianMs: percentile(times, 0.5), p90Ms: percentile(times, 0.9), minMs: times[0] ?? Number.NaN };
  } finally {
    client.close();
    artifacts.close();
    await worker.shutdown({ abort: true, graceMs: 1000 });
    await artifactServer.close(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PeakRssOptions {
  /** The command that starts a worker process, e.g. [process.execPath, 'apps/worker/dist/main.js']. */
  workerCommand: readonly string[];
  backend?: BackendRequest;
  batchSize?: number;
  /** Scoring batches (of batchSize samples). Default 1. */
  batches?: number;
}

export interface PeakRssResult {
  backend: string;
  model: string;
  batchSize: number;
  batches: number;
  /** Resident set size of the idle worker, after start. */
  idleRssBytes: number;
  /** Peak resident set size (VmHWM) of the worker process after the call. */
  peakRssBytes: number;
  callMs: number;
}

function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`/proc/${pid}/status has no ${field} (Linux only)`);
  return Number(match[1]) * 1024;
}

/**
 * The peak RSS of a real worker process scoring ResNet-20 (CIFAR, 10 classes) with one
 * ComputeGradStats over `batches` batches of `batchSize` synthetic images (every prunable
 * group), read from /proc/PID/status (VmHWM) before the process is stopped.
 */
export async function measureWorkerPeakRss(options: PeakRssOptions): Promise<PeakRssResult> {
  const batchSize = options.batchSize ?? 128;
  const batches = options.batches ?? 1;
  const backend = options.backend ?? 'wasm';
  const dir = mkdtempSync(join(tmpdir(), 'ippro-worker-rss-'));
  const store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: false });
  const artifactServer = await startArtifactServer({ store });
  const artifacts = new ArtifactClient(artifactServer.address);
  const [command, ...args] = options.workerCommand;
  if (command === undefined) throw new Error('workerCommand is empty');
  const child = spawn(command, [...args, '--host', '127.0.0.1', '--port', '0', '--backend', backend, '--artifacts', artifactServer.address, '--cache-dir', join(dir, 'cache'), '--max-batch-size', String(batchSize)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let client: WorkerClient | undefined;
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /listening on (\S+)/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`the worker exited with ${code}: ${stderr}`)));
    });
    const pid = child.pid as number;
    client = new WorkerClient(address);
    const model = buildResNetCifar({ depth: 20, numClasses: 10, seed: 1 });
    const modelId = (await artifacts.putArtifact(modelToArtifact(model))).key;
    model.dispose();
    const spec = `synthetic:cifar?n=${batchSize * batches}&seed=0&classes=10`;
    resolveDataset(spec);
    const idleRssBytes = statusBytes(pid, 'VmRSS');
    const started = Date.now();
    await client.computeGradStats({
      modelArtifactId: modelId,
      dataset: { spec },
      batches: { start: 0, end: batches },
      batchSize,
      criterion: { batchNormMode: 'BATCH_NORM_MODE_INFERENCE' },
    });
    const callMs = Date.now() - started;
    const peakRssBytes = statusBytes(pid, 'VmHWM');
    return { backend, model: 'resnet20', batchSize, batches, idleRssBytes, peakRssBytes, callMs };
  } finally {
    client?.close();
    child.kill('SIGTERM');
    await exited;
    artifacts.close();
    await artifactServer.close(500);
    rmSync(dir, { recursive: true, force: true });
  }
}
