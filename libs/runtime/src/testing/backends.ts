import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'cpu' | 'wasm' | 'tensorflow';

let ready: Promise<void> | undefined;

export interface BackendOptions {
  /**
   * Sets tfjs' IS_TEST flag, which makes the engine throw when a kernel leaves
   * data ids behind. Default true. Turn it off for custom-gradient ops such as
   * fused conv2d: on wasm their saved tensors are real copies, which the check
   * misreports as leaks.
   */
  engineLeakChecks?: boolean;
}

/** Initialises the cpu and wasm backends once per process and leaves cpu active. */
export async function useBackends(options: BackendOptions = {}): Promise<void> {
  ready ??= initialiseBackends();
  await ready;
  tf.env().set('IS_TEST', options.engineLeakChecks ?? true);
}

async function initialiseBackends(): Promise<void> {
  // IS_TEST also silences warnings, including the cpu backend's one-off
  // "install tfjs-node" banner, which the first write below triggers.
  tf.env().set('IS_TEST', true);
  for (const name of ['wasm', 'cpu'] as const) {
    if (!(await tf.setBackend(name))) {
      throw new Error(`tfjs backend '${name}' failed to initialise`);
    }
  }
  tf.dispose(tf.zeros([1]));
}

/** Runs `body` with `name` as the active backend and restores the previous one. */
export async function onBackend<T>(name: BackendName, body: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await body();
  } finally {
    await tf.setBackend(previous);
  }
}

/** Data ids currently held by a backend, including ones the engine never saw. */
export function backendDataIds(name: BackendName): number {
  return tf.engine().findBackend(name).numDataIds();
}

/** Deterministic uniform generator in [0, 1) (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values uniform in [-1, 1) for a tensor of `shape`. */
export function randomValues(shape: readonly number[], random: () => number): Float32Array {
  const values = new Float32Array(shape.reduce((size, dim) => size * dim, 1));
  for (let i = 0; i < values.length; i++) {
    values[i] = random() * 2 - 1;
  }
  return values;
}

export function pick<T>(options: readonly T[], random: () => number): T {
  const choice = options[Math.floor(random() * options.length)];
  if (choice === undefined) {
    throw new Error('pick needs at least one option');
  }
  return choice;
}

export interface Discrepancy {
  maxAbsDiff: number;
  maxAbsReference: number;
  /** maxAbsDiff / maxAbsReference (0 when both are 0). */
  relative: number;
}

export function compare(actual: ArrayLike<number>, reference: ArrayLike<number>): Discrepancy {
  if (actual.length !== reference.length) {
    throw new Error(`length mismatch: ${actual.length} vs ${reference.length}`);
  }
  let maxAbsDiff = 0;
  let maxAbsReference = 0;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs((actual[i] ?? NaN) - (reference[i] ?? NaN));
    // NaN must fail the comparison, so it is not folded through Math.max.
    maxAbsDiff = diff > maxAbsDiff || Number.isNaN(diff) ? diff : maxAbsDiff;
    maxAbsReference = Math.max(maxAbsReference, Math.abs(reference[i] ?? 0));
  }
  const relative = maxAbsDiff === 0 ? 0 : maxAbsDiff / maxAbsReference;
  return { maxAbsDiff, maxAbsReference, relative };
}

export interface InputSpec {
  shape: number[];
  values: Float32Array;
}

export interface KernelRun {
  shape: number[];
  values: Float32Array;
}

/**
 * Runs one kernel through the engine on `backend` and returns its output.
 * Fails if the call leaves tensors or backend data ids behind.
 */
export async function runKernelOn(
  backend: BackendName,
  kernelName: string,
  inputs: Record<string, InputSpec>,
  attrs: tf.NamedAttrMap,
): Promise<KernelRun> {
  return onBackend(backend, () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds(backend);
    const tensors: tf.NamedTensorMap = {};
    for (const [name, spec] of Object.entries(inputs)) {
      tensors[name] = tf.tensor(spec.values, spec.shape, 'float32');
    }
    const output = tf.engine().runKernel(kernelName, tensors, attrs);
    if (Array.isArray(output)) {
      throw new Error(`${kernelName} returned several outputs`);
    }
    const run = { shape: output.shape, values: Float32Array.from(output.dataSync()) };
    tf.dispose([output, ...Object.values(tensors)]);
    assertNoLeak(backend, tensorsBefore, dataIdsBefore);
    return run;
  });
}

export function assertNoLeak(backend: BackendName, tensorsBefore: number, dataIdsBefore: number): void {
  const tensorsAfter = tf.memory().numTensors;
  const dataIdsAfter = backendDataIds(backend);
  if (tensorsAfter !== tensorsBefore || dataIdsAfter !== dataIdsBefore) {
    throw new Error(
      `${backend} leaked: tensors ${tensorsBefore} -> ${tensorsAfter}, data ids ${dataIdsBefore} -> ${dataIdsAfter}`,
    );
  }
}

/**
 * Runs a kernel on a candidate backend (wasm unless told) and compares it with a
 * reference, by default the same kernel on cpu with identical inputs.
 */
export async function compareKernel(
  kernelName: string,
  inputs: Record<string, InputSpec>,
  attrs: tf.NamedAttrMap,
  computeReference: () => Promise<KernelRun> = () => runKernelOn('cpu', kernelName, inputs, attrs),
  candidateBackend: BackendName = 'wasm',
): Promise<Discrepancy & { shape: number[] }> {
  const reference = await computeReference();
  const candidate = await runKernelOn(candidateBackend, kernelName, inputs, attrs);
  if (candidate.shape.join() !== reference.shape.join()) {
    throw new Error(`${kernelName}: ${candidateBackend} shape [${candidate.shape}] != cpu shape [${reference.shape}]`);
  }
  return { ...compare(candidate.values, reference.values), shape: reference.shape };
}
