import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONVERTER_DIR, findKerasEnvironment, KERAS_SETUP_COMMAND, lastLines } from '../keras-environment';
import type { KerasEnvironment } from '../keras-environment';

/** What keras_fixtures.py build writes per model (models.json). */
export interface KerasFixtureModel {
  name: string;
  file: string;
  /** The Keras that saved it: keras (Keras 3) or tf_keras (tf.keras 2). */
  library: 'keras' | 'tf_keras';
  /** Keras' own predictions on inputs.f32. */
  expected: string;
  params: number;
}

/** What keras_fixtures.py refused writes: a file and the words its refusal must contain. */
export interface RefusedKerasFile {
  file: string;
  message: string;
}

/** A prediction keras_fixtures.py predict makes. */
export interface KerasPredictionJob {
  file: string;
  library: 'keras' | 'tf_keras';
  inputs: string;
  out: string;
}

/** The Keras environment the tests need, or why they skip (with the command that installs it). */
export function kerasEnvironmentForTests(): { environment: KerasEnvironment; skip: false } | { skip: string } {
  const outcome = findKerasEnvironment(process.env['IPPRO_KERAS_ENV']);
  return outcome.found ? { environment: outcome.environment, skip: false } : { skip: `${outcome.reason}; ${KERAS_SETUP_COMMAND} installs it (CI does)` };
}

/** Runs python/testing/keras_fixtures.py (build DIR | refused DIR | predict JOBS) in the environment. */
export function runKerasFixtures(environment: KerasEnvironment, args: readonly string[]): void {
  const script = join(CONVERTER_DIR, 'testing', 'keras_fixtures.py');
  const result = spawnSync(environment.python, [script, ...args], {
    encoding: 'utf8',
    timeout: 900_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', TF_CPP_MIN_LOG_LEVEL: '3', CUDA_VISIBLE_DEVICES: '', KERAS_BACKEND: 'tensorflow' },
  });
  if (result.status !== 0) throw new Error(`keras_fixtures.py ${args.join(' ')} failed (${result.status ?? result.signal}): ${lastLines(result.stderr ?? '', 5)}`);
}

export function readFloat32(file: string): Float32Array {
  const bytes = readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** max |a - b|; the lengths must agree. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`outputs of ${a.length} and ${b.length} values cannot be compared`);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return largest;
}
