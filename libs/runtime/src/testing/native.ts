import * as tf from '@tensorflow/tfjs-core';
import { loadOptionalModule } from '../backends/optional-module';
import { NATIVE_BACKEND } from '../native/native-backend';
import { registerNativeTrainingKernels } from '../native/register-native-training-kernels';

/** A backend whose kernels are checked against the cpu reference. */
export type CandidateBackend = 'wasm' | typeof NATIVE_BACKEND;

/** Whether the native backend can run here; if not, the reason tests print when they skip. */
export type NativeStatus = { available: true } | { available: false; reason: string };

let status: NativeStatus | undefined;

function loadNative(): NativeStatus {
  // libtensorflow prints start-up notices unless told otherwise.
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  const previous = tf.engine().backendName;
  const loaded = loadOptionalModule('@tensorflow/tfjs-node');
  if (loaded.status === 'missing') {
    return { available: false, reason: '@tensorflow/tfjs-node is not installed (npm run setup:native installs it)' };
  }
  if (loaded.status === 'broken') {
    return { available: false, reason: `@tensorflow/tfjs-node failed to load: ${loaded.error}` };
  }
  if (tf.findBackend(NATIVE_BACKEND) === null) {
    return { available: false, reason: `@tensorflow/tfjs-node loaded but its '${NATIVE_BACKEND}' backend did not start` };
  }
  registerNativeTrainingKernels();
  // tfjs-node makes itself the active backend when it loads; tests choose their own.
  if (previous !== NATIVE_BACKEND && tf.engine().registry[previous] !== undefined) {
    void tf.setBackend(previous);
  }
  return { available: true };
}

/**
 * Loads @tensorflow/tfjs-node once per process (synchronously, so test files can decide
 * at load time which tests to skip) and registers ippro's native training kernels.
 */
export function nativeStatus(): NativeStatus {
  status ??= loadNative();
  return status;
}

export interface CandidateRun {
  backend: CandidateBackend;
  /** False to run, or why the test is skipped (node:test prints it). */
  skip: false | string;
}

/** wasm, and the native backend (skipped with the reason when it cannot load). */
export function candidateBackends(): CandidateRun[] {
  const native = nativeStatus();
  return [
    { backend: 'wasm', skip: false },
    { backend: NATIVE_BACKEND, skip: native.available ? false : native.reason },
  ];
}
