import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadLayersModelFromDir, saveLayersModelToDir } from '@ippro/graph';
import type { OptimizerBuffer, SgdState } from '@ippro/models';
import type { TrainConfig } from './train-config';

export const CHECKPOINT_FORMAT = 'ippro.training-checkpoint';
export const CHECKPOINT_VERSION = 1;
const STATE_FILE = 'state.json';
const OPTIMIZER_FILE = 'optimizer.bin';
const VELOCITY_FILE = 'optimizer-velocity.bin';

/** What the training data was, so a resume on other data is refused. */
export interface DataIdentity {
  train: string;
  trainSize: number;
  eval?: string;
}

/** One finished epoch, as logged and as kept in the checkpoint's history. */
export interface EpochRecord {
  epoch: number;
  /** Global steps done at the end of the epoch. */
  step: number;
  /** Rate of the epoch's last step. */
  learningRate: number;
  trainLoss: number;
  trainAccuracy: number;
  evalLoss?: number;
  evalAccuracy?: number;
  imagesPerSecond: number;
  seconds: number;
}

/** state.json of a checkpoint: everything but the tensors. */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Epochs completed; the next epoch to train is this one (0-based). */
  epochsDone: number;
  step: number;
  /** Rate of the last step taken. */
  learningRate: number;
  config: TrainConfig;
  data: DataIdentity;
  /** Free-form description of the model (e.g. its architecture name). */
  model: Record<string, unknown>;
  /**
   * The only randomness of training: epoch e shuffles with epochPermutation(size, seed, e) and
   * augments sample i with cropFlipFor(seed, e, i), so (seed, nextEpoch) is the RNG state.
   */
  rng: { seed: number; nextEpoch: number };
  /**
   * The optimizer's step count and buffers: `file` holds SGD's momentum buffers or AdamW's first
   * moments, `velocity` AdamW's second moments (absent for SGD).
   */
  optimizer: { iterations: number; file: string; specs: tf.io.WeightsManifestEntry[]; velocity?: TensorFile };
  history: EpochRecord[];
  /** Data-parallel processes that shared each batch; absent for one (and in older checkpoints). */
  processes?: number;
}

/** Tensors in tf.io's weight encoding, named by weight: the file (in the checkpoint) and its entries. */
export interface TensorFile {
  file: string;
  specs: tf.io.WeightsManifestEntry[];
}

export interface Checkpoint {
  state: CheckpointState;
  model: LayersModel;
  optimizer: SgdState;
  dir: string;
}

/** The checkpoint directory inside a run's output directory. */
export function checkpointDirOf(outDir: string): string {
  return join(outDir, 'checkpoint');
}

/**
 * Writes model, optimizer state and state.json into a staging directory next to `dir`, then
 * swaps it in: a crash leaves either the previous checkpoint or the new one, never a mix.
 */
export async function writeCheckpoint(
  dir: string,
  model: LayersModel,
  optimizer: SgdState,
  state: Omit<CheckpointState, 'format' | 'version' | 'optimizer'>,
): Promise<void> {
  const staging = `${dir}.partial-${process.pid}`;
  const previous = `${dir}.previous-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await saveLayersModelToDir(model, staging);
    const momentum = await writeTensors(staging, OPTIMIZER_FILE, optimizer.momentum);
    const velocity = optimizer.velocity === undefined ? undefined : await writeTensors(staging, VELOCITY_FILE, optimizer.velocity);
    const full: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      ...state,
      optimizer: { iterations: optimizer.iterations, ...momentum, ...(velocity === undefined ? {} : { velocity }) },
    };
    await writeFile(join(staging, STATE_FILE), `${JSON.stringify(full, null, 2)}\n`);
    const hadPrevious = await exists(dir);
    if (hadPrevious) await rename(dir, previous);
    await rename(staging, dir);
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** The directory holding the latest complete checkpoint, or undefined when there is none. */
export async function findCheckpoint(dir: string): Promise<string | undefined> {
  if (await exists(join(dir, STATE_FILE))) return dir;
  // A crash between the two renames of writeCheckpoint leaves only the previous one.
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.previous-`;
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(prefix)).sort()) {
    if (await exists(join(parent, name, STATE_FILE))) return join(parent, name);
  }
  return undefined;
}

/** The state.json of the checkpoint in `dir` (no tensors are read). */
export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  const found = await findCheckpoint(dir);
  if (found === undefined) throw new Error(`no checkpoint in ${dir} (${STATE_FILE} is missing)`);
  return readStateFile(found);
}

async function readStateFile(found: string): Promise<CheckpointState> {
  const stateFile = join(found, STATE_FILE);
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as CheckpointState;
  } catch (error) {
    throw new Error(`${stateFile}: ${(error as Error).message}`);
  }
  if (state.format !== CHECKPOINT_FORMAT || state.version !== CHECKPOINT_VERSION) {
    throw new Error(`${stateFile}: not a version ${CHECKPOINT_VERSION} ${CHECKPOINT_FORMAT} file`);
  }
  return state;
}

/** Reads a checkpoint written by writeCheckpoint; errors name the file that is wrong. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const found = await findCheckpoint(dir);
  if (found === undefined) throw new Error(`no checkpoint in ${dir} (${STATE_FILE} is missing)`);
  const state = await readStateFile(found);
  const momentum = await readTensors(found, state.optimizer);
  const velocity = state.optimizer.velocity === undefined ? undefined : await readTensors(found, state.optimizer.velocity);
  const model = await loadLayersModelFromDir(found);
  const optimizer: SgdState = { iterations: state.optimizer.iterations, momentum, ...(velocity === undefined ? {} : { velocity }) };
  return { state, model, optimizer, dir: found };
}

async function writeTensors(dir: string, file: string, tensors: readonly OptimizerBuffer[]): Promise<TensorFile> {
  const encoded = await tf.io.encodeWeights(tensors.map((entry) => ({ name: entry.name, tensor: entry.tensor })));
  await writeFile(join(dir, file), Buffer.from(encoded.data));
  return { file, specs: encoded.specs };
}

/** The tensors of one file of a checkpoint, in the order its specs list them; errors name the file. */
async function readTensors(dir: string, { file, specs }: TensorFile): Promise<OptimizerBuffer[]> {
  const path = join(dir, file);
  const bytes = await readFile(path).catch((error: Error) => {
    throw new Error(`${path}: ${error.message}`);
  });
  const expected = specs.reduce((n, spec) => n + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.byteLength !== expected) {
    throw new Error(`${path}: ${bytes.byteLength} bytes, the state lists ${expected}`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const tensors = tf.io.decodeWeights(buffer, specs);
  return specs.map((spec) => ({ name: spec.name, tensor: tensors[spec.name] as tf.Tensor }));
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
