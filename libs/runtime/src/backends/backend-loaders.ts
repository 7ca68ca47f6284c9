import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadOptionalModule } from './optional-module';
import type { BackendName } from './backend-names';
import { registerWasmTrainingKernels } from '../wasm/register-training-kernels';
import { registerNativeTrainingKernels } from '../native/register-native-training-kernels';

/** Why a backend did or did not come up, in words fit for a one-line report. */
export type LoadOutcome = { ok: true; detail: string } | { ok: false; why: string };

export type BackendLoader = () => Promise<LoadOutcome>;

export type BackendLoaders = Record<BackendName, BackendLoader>;

/** The tfjs backend name each ippro backend registers with tfjs-core. */
export const TFJS_BACKEND_OF: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

export const defaultBackendLoaders: BackendLoaders = {
  'tensorflow-gpu': () => loadNativeBinding('@tensorflow/tfjs-node-gpu'),
  tensorflow: () => loadNativeBinding('@tensorflow/tfjs-node'),
  wasm: loadWasm,
  cpu: loadCpu,
};

/** libtensorflow prints start-up notices (oneDNN, CPU features) unless told otherwise. */
const TENSORFLOW_LOG_LEVEL = 'TF_CPP_MIN_LOG_LEVEL';

/** libtensorflow's intra-op thread count, read once when the binding loads. */
export const INTRA_OP_THREADS = 'TF_NUM_INTRAOP_THREADS';

/** TF_NUM_INTRAOP_THREADS as this process was started with (fixIntraOpThreads sets it later). */
const INTRA_OP_THREADS_AT_START = process.env[INTRA_OP_THREADS];

/**
 * The intra-op thread count the user gave this process (TF_NUM_INTRAOP_THREADS at its start), if
 * a positive integer: what processes it starts should inherit, rather than the count this
 * process fixed for itself when it loaded a native backend.
 */
export function intraOpThreadsGiven(): number | undefined {
  return threadCountIn(INTRA_OP_THREADS_AT_START);
}

/**
 * The intra-op threads each of `processes` native-backend processes started by this one should
 * get: the count the user gave this process, else this machine's cores split evenly (at least
 * one each), because processes that each take every core oversubscribe them and run slower
 * together than apart. Never the count this process fixed for itself when it loaded a backend.
 */
export function intraOpThreadsPerProcess(processes: number, cores: number = availableParallelism()): number {
  return intraOpThreadsGiven() ?? Math.max(1, Math.floor(cores / processes));
}

/** A TF_NUM_INTRAOP_THREADS value as a thread count, if it is a positive integer. */
export function threadCountIn(value: string | undefined): number | undefined {
  const count = value === undefined || value.trim() === '' ? NaN : Number(value);
  return Number.isSafeInteger(count) && count >= 1 ? count : undefined;
}

/**
 * The intra-op threads libtensorflow will use: TF_NUM_INTRAOP_THREADS when it is a positive
 * integer, else set to the cores this process may use, so that the count is fixed and known
 * (large reductions are split by it, and so their rounding) before the binding reads it.
 */
export function fixIntraOpThreads(env: NodeJS.ProcessEnv = process.env): number {
  const given = threadCountIn(env[INTRA_OP_THREADS]);
  if (given !== undefined) return given;
  const cores = availableParallelism();
  env[INTRA_OP_THREADS] = String(cores);
  return cores;
}

/**
 * GPU kernels (cuDNN convolutions, atomics in reductions) pick algorithms and orders that vary
 * from run to run unless TensorFlow is told to be deterministic; it reads these when it loads.
 * An explicit value in the environment is kept.
 */
export function requestDeterministicGpuKernels(env: NodeJS.ProcessEnv = process.env): void {
  env['TF_DETERMINISTIC_OPS'] ??= '1';
  env['TF_CUDNN_DETERMINISTIC'] ??= '1';
}

async function loadNativeBinding(packageName: string): Promise<LoadOutcome> {
  process.env[TENSORFLOW_LOG_LEVEL] ??= '2';
  fixIntraOpThreads();
  if (packageName === '@tensorflow/tfjs-node-gpu' && isResolvable(packageName)) requestDeterministicGpuKernels();
  const loaded = loadOptionalModule(packageName);
  if (loaded.status === 'missing') return { ok: false, why: `${packageName} is not installed` };
  if (loaded.status === 'broken') {
    return { ok: false, why: `${packageName} failed to load (${loaded.error})` };
  }
  if (!(await activate('tensorflow'))) {
    return { ok: false, why: `${packageName} loaded but its 'tensorflow' backend did not start` };
  }
  registerNativeTrainingKernels();
  return { ok: true, detail: `${packageName} (libtensorflow, tfjs ${tf.version_core})` };
}

function isResolvable(packageName: string): boolean {
  try {
    require.resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

async function loadWasm(): Promise<LoadOutcome> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await activate('wasm'))) return { ok: false, why: 'the wasm backend did not start' };
  registerWasmTrainingKernels();
  return { ok: true, detail: `@tensorflow/tfjs-backend-wasm (XNNPACK, one thread)` };
}

async function loadCpu(): Promise<LoadOutcome> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await activate('cpu'))) return { ok: false, why: 'the cpu backend did not start' };
  return { ok: true, detail: '@tensorflow/tfjs-backend-cpu (plain JavaScript reference)' };
}

async function activate(tfjsBackend: string): Promise<boolean> {
  try {
    const started = await tf.setBackend(tfjsBackend);
    await tf.ready();
    return started && tf.getBackend() === tfjsBackend;
  } catch {
    return false;
  }
}
