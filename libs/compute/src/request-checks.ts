import { isArtifactKey } from '@ippro/artifacts';
import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { ChannelGraph } from '@ippro/graph';
import { modelDataMismatch } from '@ippro/training';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { invalidArgument } from './worker-error';

/** A half-open range of batch indices. */
export interface BatchSpan {
  start: number;
  end: number;
}

/** Checks an artifact id field: 64 lowercase hex digits. */
export function checkArtifactId(value: string, field: string): string {
  const text: string = value;
  if (!isArtifactKey(value)) {
    throw invalidArgument(`${field} ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)} is not an artifact id (64 lowercase hex digits)`);
  }
  return value;
}

export function checkBatchSize(value: number, maxBatchSize: number, field = 'batch_size'): number {
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(`${field} must be a positive integer, got ${value}`);
  if (value > maxBatchSize) throw invalidArgument(`${field} ${value} is above this worker's limit of ${maxBatchSize}`);
  return value;
}

/** A batch range that is non-empty and inside the dataset at this batch size. */
export function checkBatchRange(range: { start: number; end: number } | null | undefined, dataset: LabeledDataset, batchSize: number, field = 'batches'): BatchSpan {
  if (range == null) throw invalidArgument(`${field} is required`);
  const { start, end } = range;
  const count = batchCount(dataset, batchSize);
  if (end <= start) throw invalidArgument(`${field} [${start}, ${end}) is empty or inverted`);
  if (end > count) {
    throw invalidArgument(`${field} [${start}, ${end}) is outside dataset ${dataset.description}, which has ${count} batches of ${batchSize} (${dataset.size} samples)`);
  }
  return { start, end };
}

/** The model can run on the dataset (one input of the samples' shape, one output per class). */
export function checkModelFitsData(model: LayersModel, dataset: LabeledDataset, modelId: string): void {
  const mismatch = modelDataMismatch(model, dataset);
  if (mismatch !== undefined) throw invalidArgument(`model ${modelId} does not fit dataset ${dataset.description}: ${mismatch}`);
}

/** Checks the requested groups (the statistics list them in graph order); empty means every prunable group (undefined). */
export function checkGroupIds(ids: readonly string[], graph: ChannelGraph, modelId: string): readonly string[] | undefined {
  if (ids.length === 0) return undefined;
  const byId = new Map(graph.groups.map((group) => [group.id, group]));
  const seen = new Set<string>();
  ids.forEach((id, index) => {
    const group = byId.get(id);
    if (group === undefined) throw invalidArgument(`group_ids[${index}] ${JSON.stringify(id.slice(0, 200))} is not a group of model ${modelId}`);
    if (!group.prunable) throw invalidArgument(`group_ids[${index}] '${id}' is not prunable (${group.frozenReason ?? 'frozen'}); it is never scored`);
    if (seen.has(id)) throw invalidArgument(`group_ids[${index}] '${id}' is listed twice`);
    seen.add(id);
  });
  return ids;
}
