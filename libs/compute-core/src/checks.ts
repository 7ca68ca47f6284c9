import { isArtifactKey } from '@ippro/artifact-store';
import { DatasetSlice, batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { ChannelGraph } from '@ippro/graph';
import { modelDataMismatch, OUTPUT_SETTINGS, resolveOutputKind, SIGMOID_DISTILLATION_REFUSAL } from '@ippro/models';
import type { OutputSetting, SgdSettings } from '@ippro/models';
import { batchShards } from '@ippro/pruning';
import { adamwFault } from '@ippro/workflow-core';
import type { BatchRangeRef } from '@ippro/workflow-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { DistillationCall, ReplicaRef, ScoreTrajectoryCall, SgdCallSettings } from './calls';
import { ComputeInputError } from './compute-input-error';

/** The checks of a call's input, each once; every refusal names the field. */

const invalid = (message: string): ComputeInputError => new ComputeInputError(message);

/** An artifact id: 64 lowercase hex digits. */
export function checkArtifactId(value: string, field: string): string {
  const text: string = value;
  if (!isArtifactKey(value)) {
    throw invalid(`${field} ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)} is not an artifact id (64 lowercase hex digits)`);
  }
  return value;
}

/** A positive integer, at most `maxBatchSize` when the host sets one. */
export function checkBatchSize(value: number, maxBatchSize: number | undefined, field = 'batch_size'): number {
  if (!Number.isInteger(value) || value < 1) throw invalid(`${field} must be a positive integer, got ${value}`);
  if (maxBatchSize !== undefined && value > maxBatchSize) throw invalid(`${field} ${value} is above this worker's limit of ${maxBatchSize}`);
  return value;
}

/** A batch range that is non-empty and inside the dataset at this batch size. */
export function checkBatchRange(range: BatchRangeRef, dataset: LabeledDataset, batchSize: number, field = 'batches'): BatchRangeRef {
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0) throw invalid(`${field} [${start}, ${end}) is not a range of batch indices`);
  if (end <= start) throw invalid(`${field} [${start}, ${end}) is empty or inverted`);
  const count = batchCount(dataset, batchSize);
  if (end > count) {
    throw invalid(`${field} [${start}, ${end}) is outside dataset ${dataset.description}, which has ${count} batches of ${batchSize} (${dataset.size} samples)`);
  }
  return { start, end };
}

/** The batch range of a replica: a contiguous share of the dataset's batches, never empty. */
export function replicaRange(dataset: LabeledDataset, batchSize: number, replica: ReplicaRef): BatchRangeRef {
  const { index, count } = replica;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw invalid(`replica ${index} of ${count}: index must be below a positive count`);
  }
  const batches = batchCount(dataset, batchSize);
  const range = batchShards(batches, count)[index];
  if (range === undefined || range.end <= range.start) {
    throw invalid(`replica ${index} of ${count}: dataset ${dataset.description} has only ${batches} batches of ${batchSize}; use at most ${batches} replicas`);
  }
  return range;
}

/** The samples of batches [start, end) as a dataset of their own (a replica's data). */
export function shardDataset(dataset: LabeledDataset, range: BatchRangeRef, batchSize: number): LabeledDataset {
  const start = range.start * batchSize;
  const end = Math.min(range.end * batchSize, dataset.size);
  if (start === 0 && end === dataset.size) return dataset;
  return new DatasetSlice(`${dataset.description}[${start}:${end}]`, dataset, { start, end });
}

/** The requested groups (the statistics list them in graph order); empty means every prunable group (undefined). */
export function checkGroupIds(ids: readonly string[], graph: ChannelGraph, modelId: string): readonly string[] | undefined {
  if (ids.length === 0) return undefined;
  const byId = new Map(graph.groups.map((group) => [group.id, group]));
  const seen = new Set<string>();
  ids.forEach((id, index) => {
    const group = byId.get(id);
    if (group === undefined) throw invalid(`group_ids[${index}] ${JSON.stringify(id.slice(0, 200))} is not a group of model ${modelId}`);
    if (!group.prunable) throw invalid(`group_ids[${index}] '${id}' is not prunable (${group.frozenReason ?? 'frozen'}); it is never scored`);
    if (seen.has(id)) throw invalid(`group_ids[${index}] '${id}' is listed twice`);
    seen.add(id);
  });
  return ids;
}

/** An output kind the models library knows; absent means 'auto'. */
export function checkOutput(output: OutputSetting | undefined): OutputSetting {
  if (output === undefined) return 'auto';
  if (!OUTPUT_SETTINGS.includes(output)) throw invalid(`output must be one of ${OUTPUT_SETTINGS.join(', ')}, got '${String(output)}'`);
  return output;
}

/**
 * The model can run on the dataset: one input of the samples' shape, an output of the stated kind
 * (or one 'auto' recognises) that fits the labels.
 */
export function checkModelFitsData(model: LayersModel, dataset: LabeledDataset, modelId: string, output: OutputSetting): void {
  const mismatch = modelDataMismatch(model, dataset, output);
  if (mismatch !== undefined) throw invalid(`model ${modelId} does not fit dataset ${dataset.description}: ${mismatch}`);
}

export function checkSteps(steps: number): number {
  if (!Number.isInteger(steps) || steps < 1) throw invalid(`steps must be at least 1, got ${steps}`);
  return steps;
}

/** SGD or AdamW settings within their ranges, as @ippro/models' SgdTrainer takes them. */
export function checkSgd(settings: SgdCallSettings): SgdSettings {
  const { learningRate, momentum, nesterov, weightDecay, labelSmoothing, cosineDecay, adamw } = settings;
  if (!Number.isFinite(learningRate) || learningRate <= 0) throw invalid(`optimizer.learning_rate must be a positive number, got ${learningRate}`);
  if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) throw invalid(`optimizer.momentum must be in [0, 1), got ${momentum}`);
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw invalid(`optimizer.weight_decay must be a non-negative number, got ${weightDecay}`);
  if (!Number.isFinite(labelSmoothing) || labelSmoothing < 0 || labelSmoothing >= 1) throw invalid(`optimizer.label_smoothing must be in [0, 1), got ${labelSmoothing}`);
  if (cosineDecay !== undefined && cosineDecay.steps < 1) throw invalid(`optimizer.cosine_decay.steps must be at least 1, got ${cosineDecay.steps}`);
  const schedule = cosineDecay === undefined ? {} : { cosineDecay };
  if (adamw === undefined) return { learningRate, momentum, nesterov, weightDecay, labelSmoothing, ...schedule };
  const optimizer = { kind: 'adamw' as const, ...adamw };
  const fault = adamwFault(optimizer);
  if (fault !== undefined) throw invalid(`optimizer.adamw.${fault.field} must be ${fault.expected}, got ${optimizer[fault.field]}`);
  // Momentum would be ignored by AdamW: a caller that sets it has not asked for what it would get.
  if (momentum !== 0 || nesterov) throw invalid(`optimizer.momentum and optimizer.nesterov are SGD's: with optimizer.adamw they must be 0 and false, got ${momentum} and ${nesterov}`);
  return { learningRate, weightDecay, labelSmoothing, ...schedule, optimizer };
}

/** Augmentation pads, crops and flips images: samples of shape [height, width, channels]. */
export function checkAugment(augment: boolean, data: LabeledDataset): void {
  if (augment && data.sampleShape.length !== 3) {
    throw invalid(`augment needs [height, width, channels] images, but ${data.description} has samples of shape [${data.sampleShape.join(', ')}]`);
  }
}

/** A distillation's teacher, weight in (0, 1] and temperature above 0. */
export function checkDistillation(distillation: DistillationCall): DistillationCall {
  const { teacherModelArtifactId, weight, temperature } = distillation;
  checkArtifactId(teacherModelArtifactId, 'distillation.teacher_model_artifact_id');
  if (!Number.isFinite(weight) || weight <= 0 || weight > 1) throw invalid(`distillation.weight must be in (0, 1], got ${weight}`);
  if (!Number.isFinite(temperature) || temperature <= 0) throw invalid(`distillation.temperature must be a positive number, got ${temperature}`);
  return distillation;
}

/** Distillation matches class distributions: a sigmoid student (checkModelFitsData has resolved its kind) is refused. */
export function checkDistillationOutput(model: LayersModel, output: OutputSetting): void {
  if (resolveOutputKind(model, output) === 'sigmoid') throw invalid(SIGMOID_DISTILLATION_REFUSAL);
}

export function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalid(`seed must be a non-negative integer, got ${seed}`);
  return seed;
}

/** A non-empty range of a batch stream that runs on over epochs (so it has no end of data). */
export function checkStreamRange(range: BatchRangeRef, field = 'batches'): BatchRangeRef {
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0) throw invalid(`${field} [${start}, ${end}) is not a range of batch indices`);
  if (end <= start) throw invalid(`${field} [${start}, ${end}) is empty or inverted`);
  return { start, end };
}

/** The trajectory's settings; returns its step count (0 asks for every one of the data's `batches`). */
export function checkTrajectory(call: ScoreTrajectoryCall, batches: number): number {
  const { steps, learningRate, momentum, weightDecay, order, includeBias } = call;
  if (!Number.isInteger(steps) || steps < 0) throw invalid(`steps must be a non-negative integer (0: every batch), got ${steps}`);
  if (steps > batches) throw invalid(`steps ${steps}: the trajectory takes one scoring batch per step, and the data has only ${batches} batches of ${call.batchSize}`);
  if (!Number.isFinite(learningRate) || learningRate <= 0) throw invalid(`learning_rate must be a positive number, got ${learningRate}`);
  if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) throw invalid(`momentum must be in [0, 1), got ${momentum}`);
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw invalid(`weight_decay must be a non-negative number, got ${weightDecay}`);
  if (weightDecay > 0 && includeBias) throw invalid('weight_decay: the training objective decays kernels only; it cannot be used with criterion.include_bias');
  if (order !== 'ascending' && order !== 'descending') throw invalid(`order must be ascending or descending, got ${String(order)}`);
  return steps === 0 ? batches : steps;
}
