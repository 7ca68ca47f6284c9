import type * as tf from '@tensorflow/tfjs-core';

type WeightSpec = tf.io.WeightsManifestEntry;

const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

/** A parsed model.json: the topology, the weights manifest, and the rest kept as is. */
export interface ModelJsonFile {
  json: tf.io.ModelJSON;
  manifest: tf.io.WeightsManifestConfig;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bytes one weight occupies in a weights file. */
export function weightByteLength(spec: WeightSpec, file: string): number {
  const quantized = spec.quantization?.dtype;
  const bytes = quantized !== undefined ? QUANTIZED_BYTES[quantized] : DTYPE_BYTES[spec.dtype];
  if (bytes === undefined) {
    throw new Error(`${file}: weight "${spec.name}" has unsupported dtype ${quantized ?? spec.dtype}`);
  }
  return spec.shape.reduce((acc, size) => acc * size, 1) * bytes;
}

function checkWeightSpec(value: unknown, where: string): void {
  if (!isRecord(value) || typeof value['name'] !== 'string' || typeof value['dtype'] !== 'string') {
    throw new Error(`${where} should be {name, shape, dtype}, got ${JSON.stringify(value)}`);
  }
  const shape = value['shape'];
  if (!Array.isArray(shape) || !shape.every((size) => Number.isInteger(size) && size >= 0)) {
    throw new Error(`${where} ("${value['name']}"): field "shape" should be a list of sizes, got ${JSON.stringify(shape)}`);
  }
}

function checkManifestGroup(value: unknown, where: string): void {
  if (!isRecord(value)) throw new Error(`${where} should be an object with "paths" and "weights"`);
  const paths = value['paths'];
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new Error(`${where}: field "paths" should be a list of file names, got ${JSON.stringify(paths)}`);
  }
  const weights = value['weights'];
  if (!Array.isArray(weights)) throw new Error(`${where}: field "weights" should be a list`);
  weights.forEach((spec, i) => checkWeightSpec(spec, `${where}.weights[${i}]`));
}

/** Parses and checks the structure of a model.json text; errors name the file and field. */
export function parseModelJson(text: string, file: string): ModelJsonFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`Malformed model file ${file}: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new Error(`Malformed model file ${file}: expected a JSON object`);
  if (!isRecord(parsed['modelTopology'])) throw new Error(`Malformed model file ${file}: field "modelTopology" is missing or not an object`);
  const manifest = parsed['weightsManifest'] ?? [];
  if (!Array.isArray(manifest)) throw new Error(`Malformed model file ${file}: field "weightsManifest" should be a list`);
  manifest.forEach((group, i) => checkManifestGroup(group, `Malformed model file ${file}: weightsManifest[${i}]`));
  return { json: parsed as unknown as tf.io.ModelJSON, manifest: manifest as tf.io.WeightsManifestConfig };
}
