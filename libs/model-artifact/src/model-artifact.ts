import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkLayerGraph, checkModelSize, repairSeparableDepthMultipliers, validateModelWeights } from '@ippro/graph';
import { canonicalJson } from './canonical-json';
import { ArtifactFormatError } from './artifact-format-error';

/*
 * The model artifact: one file holding a standard TensorFlow.js LayersModel (model.json +
 * weights.bin), so a model travels and is named (sha256) as one artifact.
 *
 *   offset 0    "IPMA"                      magic, 4 ASCII bytes
 *   offset 4    u32 little endian           format version (1)
 *   offset 8    u32 little endian J         byte length of the model JSON
 *   offset 12   J bytes, UTF-8              model.json: { convertedBy, format, generatedBy,
 *                                           modelTopology, weightsManifest: [{ paths:
 *                                           ["weights.bin"], weights: [{ name, shape, dtype }] }] }
 *                                           serialised with object keys sorted (canonical)
 *   offset 12+J the rest                    weights.bin: every weight of the manifest in order,
 *                                           little endian (float32 or int32), nothing after it
 *
 * Writing the JSON to model.json and the rest to weights.bin gives a model directory that
 * tf.loadLayersModel (or @ippro/graph's loadLayersModelFromDir) loads. The bytes depend only on
 * the topology, the weight names and the weight values: the same model always gives the same
 * bytes, so equal models have equal artifact ids.
 */

export const MODEL_ARTIFACT_MAGIC = 'IPMA';
export const MODEL_ARTIFACT_VERSION = 1;
const PREAMBLE_BYTES = 12;
const WEIGHTS_FILE = 'weights.bin';
const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4 };

/** The two parts of a model artifact, as a model directory would hold them. */
export interface ModelArtifactParts {
  /** The model.json object (topology and weights manifest). */
  modelJson: tf.io.ModelJSON;
  /** The weights.bin bytes. */
  weights: Uint8Array;
}

function weightBytesOf(tensor: tf.Tensor, name: string): Uint8Array {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
    throw new ArtifactFormatError(`model artifact: weight "${name}" has dtype ${tensor.dtype}; only float32 and int32 are stored`);
  }
  const values = tensor.dataSync() as Float32Array | Int32Array;
  // Typed arrays are in host byte order; every supported Node platform is little endian.
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The model.json object and weights.bin bytes of a model, exactly as modelToArtifact writes them. */
export function modelArtifactParts(model: tfl.LayersModel): ModelArtifactParts {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const pieces: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const weight of model.weights) {
    const name = weight.originalName;
    if (seen.has(name)) throw new ArtifactFormatError(`model artifact: two weights are named "${name}"`);
    seen.add(name);
    const tensor = weight.read();
    specs.push({ name, shape: [...tensor.shape], dtype: tensor.dtype as 'float32' | 'int32' });
    pieces.push(weightBytesOf(tensor, name));
  }
  const weights = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.byteLength, 0));
  let offset = 0;
  for (const piece of pieces) {
    weights.set(piece, offset);
    offset += piece.byteLength;
  }
  const modelJson: tf.io.ModelJSON = {
    modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'],
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };
  return { modelJson, weights };
}

/** Packs model.json and weights.bin into the single-file artifact format. */
export function packModelArtifact(parts: ModelArtifactParts): Buffer {
  const json = Buffer.from(canonicalJson(parts.modelJson), 'utf8');
  const bytes = Buffer.alloc(PREAMBLE_BYTES + json.length + parts.weights.byteLength);
  bytes.write(MODEL_ARTIFACT_MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(MODEL_ARTIFACT_VERSION, 4);
  bytes.writeUInt32LE(json.length, 8);
  json.copy(bytes, PREAMBLE_BYTES);
  bytes.set(parts.weights, PREAMBLE_BYTES + json.length);
  return bytes;
}

/** The artifact bytes of a model: deterministic, so equal models have equal ids. */
export function modelToArtifact(model: tfl.LayersModel): Buffer {
  return packModelArtifact(modelArtifactParts(model));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function weightSize(spec: unknown, index: number): number {
  if (!isRecord(spec) || typeof spec['name'] !== 'string' || typeof spec['dtype'] !== 'string' || !Array.isArray(spec['shape'])) {
    throw new ArtifactFormatError(`model artifact: weightsManifest[0].weights[${index}] must be { name, shape, dtype }`);
  }
  const name = spec['name'];
  if (spec['quantization'] !== undefined) throw new ArtifactFormatError(`model artifact: weight "${name}" is quantized; model artifacts hold float32 and int32 weights`);
  const bytes = DTYPE_BYTES[spec['dtype']];
  if (bytes === undefined) throw new ArtifactFormatError(`model artifact: weight "${name}" has unsupported dtype ${spec['dtype']}`);
  const shape = spec['shape'] as unknown[];
  if (!shape.every((size) => Number.isInteger(size) && (size as number) >= 0)) {
    throw new ArtifactFormatError(`model artifact: weight "${name}" has shape ${JSON.stringify(shape)}, not a list of sizes`);
  }
  return (shape as number[]).reduce((product, size) => product * size, 1) * bytes;
}

/** Splits and checks an artifact's envelope; the model is not built. */
export function unpackModelArtifact(bytes: Uint8Array): ModelArtifactParts {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < PREAMBLE_BYTES) throw new ArtifactFormatError(`model artifact is truncated: ${buffer.length} bytes`);
  const magic = buffer.toString('latin1', 0, 4);
  if (magic !== MODEL_ARTIFACT_MAGIC) throw new ArtifactFormatError(`not a model artifact: magic ${JSON.stringify(magic)}, expected "${MODEL_ARTIFACT_MAGIC}"`);
  const version = buffer.readUInt32LE(4);
  if (version !== MODEL_ARTIFACT_VERSION) throw new ArtifactFormatError(`model artifact has format version ${version}; this reader understands ${MODEL_ARTIFACT_VERSION}`);
  const jsonLength = buffer.readUInt32LE(8);
  if (PREAMBLE_BYTES + jsonLength > buffer.length) throw new ArtifactFormatError(`model artifact: model JSON length ${jsonLength} exceeds the artifact (${buffer.length} bytes)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + jsonLength));
  } catch (error) {
    throw new ArtifactFormatError(`model artifact: the model JSON is malformed: ${(error as Error).message}`, { cause: error });
  }
  if (!isRecord(parsed) || !isRecord(parsed['modelTopology'])) throw new ArtifactFormatError('model artifact: field "modelTopology" is missing or not an object');
  const manifest = parsed['weightsManifest'];
  if (!Array.isArray(manifest) || manifest.length !== 1 || !isRecord(manifest[0]) || !Array.isArray(manifest[0]['weights'])) {
    throw new ArtifactFormatError('model artifact: field "weightsManifest" must hold exactly one group with a "weights" list');
  }
  const expected = (manifest[0]['weights'] as unknown[]).reduce<number>((sum, spec, index) => sum + weightSize(spec, index), 0);
  const weights = buffer.subarray(PREAMBLE_BYTES + jsonLength);
  if (weights.length !== expected) {
    throw new ArtifactFormatError(`model artifact: the weights take ${weights.length} bytes, but the manifest lists ${expected}`);
  }
  return { modelJson: parsed as unknown as tf.io.ModelJSON, weights };
}

/**
 * Builds the model an artifact holds and validates it. Every problem is an
 * ArtifactFormatError naming the field, weight or layer that is wrong: a bad envelope, a
 * topology tfjs cannot build (e.g. an unknown layer class), weights that do not fit it, or a
 * non-finite weight. Models are data: nothing in an artifact is executed.
 */
export async function modelFromArtifact(bytes: Uint8Array): Promise<tfl.LayersModel> {
  const { modelJson, weights } = unpackModelArtifact(bytes);
  const weightSpecs = modelJson.weightsManifest[0]?.weights ?? [];
  try {
    // Before tfjs builds the model, which allocates every weight its config asks for.
    checkModelSize(modelJson.modelTopology, weightSpecs, 'model artifact');
    checkLayerGraph(modelJson.modelTopology, 'model artifact');
  } catch (error) {
    throw new ArtifactFormatError((error as Error).message, { cause: error });
  }
  const modelTopology = JSON.parse(JSON.stringify(modelJson.modelTopology)) as tf.io.ModelJSON['modelTopology'];
  repairSeparableDepthMultipliers(modelTopology, weightSpecs);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    weightSpecs,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
  };
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel({ load: () => Promise.resolve(artifacts) });
  } catch (error) {
    throw new ArtifactFormatError(`model artifact: cannot build the model: ${(error as Error).message}`, { cause: error });
  }
  try {
    validateModelWeights(model);
  } catch (error) {
    model.dispose();
    throw new ArtifactFormatError(`model artifact: ${(error as Error).message}`, { cause: error });
  }
  return model;
}
