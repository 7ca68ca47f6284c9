import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchOptions } from './bench-options';
import type { KernelTime } from './kernel-profile';
import type { RuntimeModel } from './runtime-options';

/** Marks the one line of the child's stdout that carries its result. */
export const RESULT_PREFIX = 'native-result ';
/** The child's flag naming the model it measures. */
export const MODEL_FLAG = '--model';

export interface NativeMeasurement {
  /** The runtime's one-line report of the backend. */
  summary: string;
  model: RuntimeModel;
  /** The tfjs model's trainable weights' element count. */
  trainableParameters: number;
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

/** The child's command line (after node) for `model`, plus `extra` flags. */
export function nativeChildArgs(options: BenchOptions, model: RuntimeModel, extra: string[]): string[] {
  return [join(__dirname, 'runtime-native-child.js'), MODEL_FLAG, model, ...benchFlags(options), ...extra];
}

/** libtensorflow reads its thread counts from the environment once, when it loads. */
export function nativeChildEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, TF_NUM_INTRAOP_THREADS: `${threads}`, TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' };
}

/**
 * Runs the native measurement of `model` in a child process with `threads` intra-op
 * threads and one inter-op thread.
 */
export function measureNative(options: BenchOptions, model: RuntimeModel, threads: number, kernels: 'ippro' | 'stock'): NativeOutcome {
  const args = nativeChildArgs(options, model, kernels === 'stock' ? ['--stock-kernels'] : []);
  const env = nativeChildEnv(threads);
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = result.stdout.split('\n').find((text) => text.startsWith(RESULT_PREFIX));
  if (result.status !== 0 || line === undefined) {
    const why = (result.stderr || result.stdout || `exit ${result.status}`).trim().split('\n').pop() ?? '';
    return { ok: false, why };
  }
  return { ok: true, measurement: JSON.parse(line.slice(RESULT_PREFIX.length)) as NativeMeasurement };
}
