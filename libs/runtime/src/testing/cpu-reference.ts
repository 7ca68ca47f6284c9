import * as tf from '@tensorflow/tfjs-core';
import { assertNoLeak, backendDataIds, BackendName, compare, onBackend, useBackends } from './backends';

/** Replaces whatever wasm kernel is registered under the config's name with the config. */
export function installWasmKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm') !== undefined) {
    tf.unregisterKernel(config.kernelName, 'wasm');
  }
  tf.registerKernel(config);
}

interface Run {
  shape: number[];
  values: Float32Array;
}

/** Runs `compute` on one backend and fails if it leaves tensors or backend buffers behind. */
async function runOn(backend: BackendName, compute: () => tf.Tensor): Promise<Run> {
  await useBackends();
  return onBackend(backend, async () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds(backend);
    const result = tf.tidy(compute);
    const run = { shape: result.shape, values: Float32Array.from(await result.data()) };
    result.dispose();
    assertNoLeak(backend, tensorsBefore, dataIdsBefore);
    return run;
  });
}

export interface BackendComparison {
  shapeMatches: boolean;
  /** max |candidate - cpu| divided by max |cpu|. */
  relativeError: number;
}

/**
 * Runs the same op-level computation on cpu and on a candidate backend (inputs must be
 * built inside `compute` from plain arrays) and measures how far the candidate strays.
 */
export async function compareWithCpu(compute: () => tf.Tensor, candidate: BackendName): Promise<BackendComparison> {
  const expected = await runOn('cpu', compute);
  const actual = await runOn(candidate, compute);
  if (!tf.util.arraysEqual(expected.shape, actual.shape)) {
    return { shapeMatches: false, relativeError: Infinity };
  }
  const { relative } = compare(actual.values, expected.values);
  return { shapeMatches: true, relativeError: Number.isNaN(relative) ? Infinity : relative };
}

/** compareWithCpu for wasm. */
export async function compareWasmWithCpu(compute: () => tf.Tensor): Promise<BackendComparison> {
  return compareWithCpu(compute, 'wasm');
}
