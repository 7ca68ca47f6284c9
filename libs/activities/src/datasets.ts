import type { ArtifactStorage } from '@ippro/artifacts';
import { CIFAR10_RECORDS_PER_FILE, CIFAR10_SAMPLE_SHAPE, CIFAR10_SPLIT_FILES, DatasetSlice, batchCount, formatDatasetSpec, parseDatasetSpec, resolveDataset } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { datasetFromArtifact } from '@ippro/model-artifact';
import { batchShards } from '@ippro/pruning';
import type { BatchRangeRef, DatasetRef } from '@ippro/workflow-core';
import { ComputeInputError } from './compute-executor';

/** What shard planning needs to know about a dataset. */
export interface DatasetShape {
  size: number;
  sampleShape: readonly number[];
}

export interface ResolvedDataset {
  dataset: LabeledDataset;
  /** The canonical spec (or `artifact:<sha256>`): the statistics header's datasetId. */
  datasetId: string;
}

/**
 * Opens the datasets of DatasetRefs in this process: a spec through @ippro/data, or a dataset
 * artifact from the store. A few are kept open.
 */
export class DatasetResolver {
  private readonly cache = new Map<string, ResolvedDataset>();

  constructor(
    private readonly store: ArtifactStorage,
    private readonly options: { cifar10Dir?: string; maxCached?: number } = {},
  ) {}

  /**
   * Size and sample shape. A CIFAR-10 split's are fixed by its spec, so planning shards of it
   * needs no dataset files here (the orchestrator's host has none; the workers read them).
   */
  async shape(ref: DatasetRef, field = 'dataset'): Promise<DatasetShape> {
    if ((ref.artifactId === undefined || ref.artifactId === '') && ref.spec !== '') {
      const parsed = parseDatasetSpec(ref.spec);
      if (parsed.scheme === 'cifar10' && parsed.range === undefined) {
        return { size: CIFAR10_SPLIT_FILES[parsed.split].length * CIFAR10_RECORDS_PER_FILE, sampleShape: CIFAR10_SAMPLE_SHAPE };
      }
    }
    const { dataset } = await this.resolve(ref, field);
    return { size: dataset.size, sampleShape: dataset.sampleShape };
  }

  async resolve(ref: DatasetRef, field = 'dataset'): Promise<ResolvedDataset> {
    const key = `${ref.artifactId ?? ''} ${ref.spec}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let resolved: ResolvedDataset;
    if (ref.artifactId !== undefined && ref.artifactId !== '') {
      const datasetId = ref.spec !== '' ? ref.spec : `artifact:${ref.artifactId}`;
      const bytes = await this.store.get(ref.artifactId);
      resolved = { dataset: datasetFromArtifact(bytes, { description: datasetId }), datasetId };
    } else {
      if (ref.spec === '') throw new ComputeInputError(`${field}.spec is empty and ${field}.artifactId is not set`);
      const parsed = parseDatasetSpec(ref.spec);
      if (parsed.range !== undefined) {
        throw new ComputeInputError(`${field}.spec '${ref.spec}' carries a sample range; name the whole dataset (shards select the data)`);
      }
      const options = this.options.cifar10Dir === undefined ? {} : { cifar10Dir: this.options.cifar10Dir };
      resolved = { dataset: resolveDataset(parsed, options), datasetId: formatDatasetSpec(parsed) };
    }
    this.cache.set(key, resolved);
    while (this.cache.size > (this.options.maxCached ?? 8)) this.cache.delete(this.cache.keys().next().value as string);
    return resolved;
  }
}

/** The batch range of replica `index` of `count`: a contiguous share of the dataset's batches. */
export function replicaRange(dataset: LabeledDataset, batchSize: number, replica: { index: number; count: number }): BatchRangeRef {
  const { index, count } = replica;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new ComputeInputError(`replica ${index} of ${count}: index must be below a positive count`);
  }
  const batches = batchCount(dataset, batchSize);
  const range = batchShards(batches, count)[index];
  if (range === undefined || range.end <= range.start) {
    throw new ComputeInputError(
      `replica ${index} of ${count}: dataset ${dataset.description} has only ${batches} batches of ${batchSize}; use at most ${batches} replicas`,
    );
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

/** Checks a batch range against a dataset. */
export function checkBatchRange(dataset: LabeledDataset, batchSize: number, range: BatchRangeRef): void {
  const total = batchCount(dataset, batchSize);
  if (!Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 0 || range.end <= range.start || range.end > total) {
    throw new ComputeInputError(`batches [${range.start}, ${range.end}) is empty, inverted or outside ${dataset.description}, which has ${total} batches of ${batchSize}`);
  }
}
