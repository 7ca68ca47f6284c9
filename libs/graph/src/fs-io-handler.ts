import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { checkLayerGraph } from './layer-graph-check';
import { checkModelSize } from './model-size-estimate';
import { repairSeparableDepthMultipliers } from './separable-config-repair';
import { parseModelJson, weightByteLength } from './weights-manifest';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** One weights file's bytes and where they sit in its manifest group's concatenation. */
interface LoadedFile {
  file: string;
  start: number;
  bytes: Uint8Array;
}

/** Refuses manifest paths that would leave the model directory, by name or (after symbolic links) by where they lead. */
function resolveInside(dir: string, relative: string, modelFile: string): string {
  const resolved = path.resolve(dir, relative);
  const root = path.resolve(dir);
  if (path.isAbsolute(relative) || !resolved.startsWith(root + path.sep)) {
    throw new Error(`${modelFile}: weights path "${relative}" points outside the model directory`);
  }
  if (fs.existsSync(resolved)) {
    const real = fs.realpathSync(resolved);
    const realRoot = fs.realpathSync(root);
    if (!real.startsWith(realRoot + path.sep)) {
      throw new Error(`${modelFile}: weights path "${relative}" is a symbolic link to ${real}, outside the model directory`);
    }
    // The file checked is the file read, even if the link changes meanwhile.
    return real;
  }
  return resolved;
}

function readFiles(dir: string, paths: readonly string[], modelFile: string): LoadedFile[] {
  let start = 0;
  return paths.map((relative) => {
    const file = resolveInside(dir, relative, modelFile);
    if (!fs.existsSync(file)) throw new Error(`Weights file ${file} (listed in ${modelFile}) does not exist`);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const loaded = { file, start, bytes };
    start += bytes.byteLength;
    return loaded;
  });
}

function join(chunks: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

function fileAt(files: readonly LoadedFile[], byte: number): string {
  const owner = files.find((f) => byte >= f.start && byte < f.start + f.bytes.byteLength);
  return owner?.file ?? files[files.length - 1].file;
}

/** NaN or infinite float32 weights are refused, naming the weight and its file. */
function checkFinite(spec: tf.io.WeightsManifestEntry, data: Uint8Array, offset: number, files: readonly LoadedFile[]): void {
  if (spec.dtype !== 'float32' || spec.quantization !== undefined) return;
  const count = spec.shape.reduce((acc, size) => acc * size, 1);
  const values = new Float32Array(data.buffer.slice(data.byteOffset + offset, data.byteOffset + offset + count * 4));
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new Error(`Weight "${spec.name}" in ${fileAt(files, offset + bad * 4)} has a non-finite value (${values[bad]}) at element ${bad}`);
  }
}

/** Reads one manifest group's files and checks their size against its weights. */
function loadGroup(dir: string, group: tf.io.WeightsManifestConfig[number], modelFile: string): Uint8Array {
  const files = readFiles(dir, group.paths, modelFile);
  const data = join(files.map((f) => f.bytes));
  const sizes = group.weights.map((spec) => weightByteLength(spec, modelFile));
  const expected = sizes.reduce((sum, size) => sum + size, 0);
  if (data.byteLength !== expected) {
    throw new Error(
      `Weights file(s) ${files.map((f) => f.file).join(', ')} hold ${data.byteLength} bytes, ` +
        `but the weights listed for them in ${modelFile} (${group.weights.map((w) => w.name).join(', ')}) need ${expected}`,
    );
  }
  let offset = 0;
  group.weights.forEach((spec, i) => {
    checkFinite(spec, data, offset, files);
    offset += sizes[i];
  });
  return data;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function loadArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const modelFile = path.join(dir, MODEL_FILE);
  if (!fs.existsSync(modelFile)) throw new Error(`Model file ${modelFile} does not exist`);
  const { json, manifest } = parseModelJson(fs.readFileSync(modelFile, 'utf8'), modelFile);
  // Before any weights file is read or any tensor allocated.
  checkModelSize(json.modelTopology, manifest.flatMap((group) => group.weights), modelFile);
  checkLayerGraph(json.modelTopology, modelFile);
  const data = join(manifest.map((group) => loadGroup(dir, group, modelFile)));
  const artifacts: tf.io.ModelArtifacts = {
    ...json,
    weightSpecs: manifest.flatMap((group) => group.weights),
    weightData: toArrayBuffer(data),
  };
  delete (artifacts as { weightsManifest?: unknown }).weightsManifest;
  repairSeparableDepthMultipliers(artifacts.modelTopology, artifacts.weightSpecs ?? []);
  return artifacts;
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  return join(buffers.map((buffer) => new Uint8Array(buffer)));
}

/** Writes a file next to its final name, then renames it into place. */
function writeAtomically(file: string, contents: string | Uint8Array): void {
  const temporary = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(temporary, contents);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

async function saveArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error(`Cannot save to ${dir}: the model has no JSON topology`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const weights = weightBytes(artifacts.weightData);
  const { weightData: _data, weightSpecs, ...rest } = artifacts;
  void _data;
  const json: tf.io.ModelJSON = {
    ...(rest as Omit<tf.io.ModelJSON, 'weightsManifest'>),
    modelTopology: JSON.parse(JSON.stringify(artifacts.modelTopology)),
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs ?? [] }],
  };
  repairSeparableDepthMultipliers(json.modelTopology, weightSpecs ?? []);
  const text = JSON.stringify(json);
  // Weights first: a reader never sees a model.json whose weights file is not there yet.
  writeAtomically(path.join(dir, WEIGHTS_FILE), weights);
  writeAtomically(path.join(dir, MODEL_FILE), text);
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: Buffer.byteLength(JSON.stringify(artifacts.modelTopology)),
      weightSpecsBytes: Buffer.byteLength(JSON.stringify(weightSpecs ?? [])),
      weightDataBytes: weights.byteLength,
    },
  };
}

/**
 * A tfjs IOHandler over a directory holding model.json and its weights files (the standard
 * format: any manifest layout loads; saving writes one weights.bin). Loading checks the
 * structure of model.json, the presence and size of every weights file, and that float32
 * weights are finite.
 */
export function fileSystemIOHandler(dir: string): tf.io.IOHandler {
  return {
    load: () => loadArtifacts(dir),
    save: (artifacts) => saveArtifacts(dir, artifacts),
  };
}
