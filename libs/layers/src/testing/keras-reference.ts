import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A tensor as the fixture stores it: shape and row-major values. */
export interface StoredTensor {
  shape: number[];
  values: number[];
}

/** One MultiHeadAttention configuration computed by Keras (../python/make_keras_fixture.py). */
export interface AttentionCase {
  name: string;
  /** Keras's get_config(), snake_case. */
  config: Record<string, unknown>;
  callKwargs: Record<string, unknown>;
  weights: (StoredTensor & { path: string })[];
  inputs: StoredTensor[];
  output: StoredTensor;
}

export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** libs/layers/test-data/keras-reference, from the compiled test's location. */
export const KERAS_REFERENCE_DIR = join(__dirname, '..', '..', 'test-data', 'keras-reference');
export const KERAS_VIT_DIR = join(KERAS_REFERENCE_DIR, 'vit');

export function attentionCases(): AttentionCase[] {
  return (JSON.parse(readFileSync(join(KERAS_REFERENCE_DIR, 'attention.json'), 'utf8')) as { cases: AttentionCase[] }).cases;
}

/** snake_case keys to camelCase at every depth, as tfjs's loader reads a converted Keras config. */
export function camelCaseKeys(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key.replace(/_+(\w)/g, (_, c: string) => c.toUpperCase()),
      typeof value === 'object' && value !== null && !Array.isArray(value) ? camelCaseKeys(value as Record<string, unknown>) : value,
    ]),
  );
}

export function tensorOf(stored: StoredTensor): tf.Tensor {
  return tf.tensor(stored.values, stored.shape, 'float32');
}

/** max |a - b| / max |b|, the denominator at least `floor`. */
export function relativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 0): number {
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export function readModelJson(dir: string): ModelJson {
  return JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
}

/** Loads a model.json (possibly edited) with the weights of `dir` through stock tf.loadLayersModel. */
export async function loadStock(dir: string, json: ModelJson = readModelJson(dir)): Promise<tfl.LayersModel> {
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const buffers = json.weightsManifest.flatMap((group) => group.paths).map((path) => readFileSync(join(dir, path)));
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

export function kerasVitExpectation(): { inputs: StoredTensor; probabilities: StoredTensor } {
  return JSON.parse(readFileSync(join(KERAS_VIT_DIR, 'expected.json'), 'utf8')) as { inputs: StoredTensor; probabilities: StoredTensor };
}
