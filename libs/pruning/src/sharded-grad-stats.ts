import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { ChannelGraph } from '@ippro/graph';
import { accumulateGradStats, mergeGradStatsInOrder } from '@ippro/importance';
import type { BatchNormMode, GradStats } from '@ippro/importance';
import type { OutputSetting } from '@ippro/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { batchShards } from './batch-shards';
import type { BatchRange } from './batch-shards';
import { datasetBatches } from './dataset-batches';
import { layerShards } from './layer-shards';

export interface ScoringSettings {
  /** Names the scoring data in the statistics header, e.g. its spec. */
  datasetId: string;
  batchSize: number;
  /** Contiguous batch ranges computed separately and merged in order; default 1. */
  batchShards?: number;
  /** Disjoint sets of groups computed separately and merged in order; default 1. */
  layerShards?: number;
  batchNormMode?: BatchNormMode;
  includeBias?: boolean;
  modelHash?: string;
  /** The model's output kind (@ippro/models); default 'auto' (read from the model). */
  output?: OutputSetting;
}

/** One unit of scoring work: a batch range for a set of groups. */
export interface ScoringShard {
  batches: BatchRange;
  groups: readonly string[];
}

/** Every shard of a scoring pass, layer shard major, in the order they are merged. */
export function scoringShards(graph: ChannelGraph, dataset: LabeledDataset, settings: ScoringSettings): ScoringShard[][] {
  const batches = batchShards(batchCount(dataset, settings.batchSize), settings.batchShards ?? 1);
  return layerShards(graph, settings.layerShards ?? 1).map((groups) =>
    batches.map((range) => ({ batches: range, groups })),
  );
}

export async function computeShard(
  model: LayersModel,
  graph: ChannelGraph,
  dataset: LabeledDataset,
  shard: ScoringShard,
  settings: ScoringSettings,
): Promise<GradStats> {
  const batches = datasetBatches(dataset, shard.batches, { batchSize: settings.batchSize });
  const scoringBatches = mapIterable(batches, (batch) => ({ inputs: batch.x, labels: batch.y }));
  return accumulateGradStats(model, graph, scoringBatches, {
    datasetId: settings.datasetId,
    sampleStart: shard.batches.start * settings.batchSize,
    groups: shard.groups,
    ...(settings.batchNormMode === undefined ? {} : { batchNormMode: settings.batchNormMode }),
    ...(settings.includeBias === undefined ? {} : { includeBias: settings.includeBias }),
    ...(settings.modelHash === undefined ? {} : { modelHash: settings.modelHash }),
    ...(settings.output === undefined ? {} : { output: settings.output }),
  });
}

/**
 * The gradient statistics of a whole scoring pass, computed shard by shard and merged in the
 * fixed order (batch shards within a layer shard, then layer shards), exactly as a
 * distributed pass merges the shards its workers return.
 */
export async function computeShardedGradStats(
  model: LayersModel,
  graph: ChannelGraph,
  dataset: LabeledDataset,
  settings: ScoringSettings,
  onShardDone?: (done: number, total: number) => void,
): Promise<GradStats> {
  const plan = scoringShards(graph, dataset, settings);
  const total = plan.reduce((sum, row) => sum + row.length, 0);
  let done = 0;
  const perLayerShard: GradStats[] = [];
  for (const row of plan) {
    const parts: GradStats[] = [];
    for (const shard of row) {
      parts.push(await computeShard(model, graph, dataset, shard, settings));
      done += 1;
      onShardDone?.(done, total);
    }
    perLayerShard.push(mergeGradStatsInOrder(parts));
  }
  return mergeGradStatsInOrder(perLayerShard);
}

function* mapIterable<T, U>(items: Iterable<T>, map: (item: T) => U): Generator<U> {
  for (const item of items) yield map(item);
}
