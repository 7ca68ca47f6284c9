import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchOptions } from './bench-options';
import type { KernelTime } from './kernel-profile';

/** Marks the one line of the child's stdout that carries its result. */
export const RESULT_PREFIX = 'native-result ';

export interface NativeMeasurement {
  /** The runtime's one-line report of the backend. */
  summary: string;
  /** 'ippro': with ippro's native training kernels; 'stock': tfjs-node's own kernels only. */
  kernels: 'ippro' | 'stock';
  intraOpThreads: number;
  batch: number;
  forwardMs: number;
  stepMs: number;
  forwardRunsMs: number[];
  stepRunsMs: number[];
  /** Process CPU time (all threads) per training step. */
  stepCpuMs: number;
  /** TensorFlow ops one training step dispatches. */
  kernelCount: number;
  profile: KernelTime[];
}

export type NativeOutcome = { ok: true; measurement: NativeMeasurement } | { ok: false; why: string };

function benchFlags(options: BenchOptions): string[] {
  return ['--batch', `${options.wasmBatch}`, '--warmup', `${options.warmupRuns}`, '--runs', `${options.timedRuns}`, '--seed', `${options.seed}`];
}

/**
 * Runs the native measurement in a child process with `threads` intra-op threads and one
 * inter-op thread (libtensorflow reads both from the environment once, when it loads).
 */
export function measureNative(options: BenchOptions, threads: number, kernels: 'ippro' | 'stock'): NativeOutcome {
  const child = join(__dirname, 'runtime-native-child.js');
  const args = [child, ...benchFlags(options), ...(kernels === 'stock' ? ['--stock-kernels'] : [])];
  const env = { ...process.env, TF_NUM_INTRAOP_THREADS: `${threads}`, TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' };
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = result.stdout.split('\n').find((text) => text.startsWith(RESULT_PREFIX));
  if (result.status !== 0 || line === undefined) {
    const why = (result.stderr || result.stdout || `exit ${result.status}`).trim().split('\n').pop() ?? '';
    return { ok: false, why };
  }
  return { ok: true, measurement: JSON.parse(line.slice(RESULT_PREFIX.length)) as NativeMeasurement };
}
