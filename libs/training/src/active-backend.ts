import * as tf from '@tensorflow/tfjs-core';
import { activeRuntime, BACKEND_NAMES } from '@ippro/runtime';
import type { BackendName } from '@ippro/runtime';

/** The backend this process trains on: as initRuntime chose it, else as tfjs-core names it. */
export function activeBackendName(): BackendName {
  const chosen = activeRuntime()?.backend;
  if (chosen !== undefined) return chosen;
  const name = tf.getBackend();
  const known = BACKEND_NAMES.find((candidate) => candidate === name);
  if (known === undefined) throw new Error(`training processes cannot start the '${name}' backend`);
  return known;
}
