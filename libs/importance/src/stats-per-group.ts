import type { GradStats } from './grad-stats';
import { validateGradStats } from './grad-stats';
import type { GroupWeightEntry, GroupWeights } from './group-weights';

/** A group's weights with its mean gradient statistics. */
export interface GroupStatistics {
  entry: GroupWeightEntry;
  /** G_g = sumG / count. */
  g: Float64Array;
  /** r_g = sumR / count. */
  r: number;
}

/** A group's weights with its per-batch statistics (BatchStats), batches in order. */
export interface GroupBatchStatistics extends GroupStatistics {
  /** n_b per batch. */
  sizes: readonly number[];
  /** F_g . G_b,g per batch. */
  fDotG: Float64Array;
  /** ||G_b,g||^2 per batch. */
  gSquaredNorm: Float64Array;
  /** r_b,g per batch. */
  batchR: Float64Array;
  /** Per weight: sum over batches of n_b * G_b,g^2. */
  sumSquaredG: Float64Array;
}

/** Each group of the stats paired with its weights entry and its position in the stats. */
function pairWithWeights(stats: GradStats, weights: GroupWeights): { entry: GroupWeightEntry; index: number }[] {
  validateGradStats(stats);
  if (stats.count === 0) {
    throw new Error('gradient stats hold no samples (count 0); nothing to score');
  }
  if (stats.header.includeBias !== weights.includeBias) {
    throw new Error(`gradient stats have includeBias=${stats.header.includeBias} but the weights were read with includeBias=${weights.includeBias}`);
  }
  const entries = new Map(weights.groups.map((entry) => [entry.group.id, entry]));
  const pairs = stats.header.groupIds.map((id, index) => {
    const entry = entries.get(id);
    if (entry === undefined) {
      throw new Error(`group '${id}' of the gradient stats is not a prunable group of model '${weights.modelName}'`);
    }
    if (entry.f.length !== stats.header.fSizes[index]) {
      throw new Error(`group '${id}': F has ${entry.f.length} weights but the stats were computed for ${stats.header.fSizes[index]}`);
    }
    return { entry, index };
  });
  return pairs.sort((a, b) => a.entry.group.index - b.entry.group.index);
}

function meanOf(stats: GradStats, index: number): { g: Float64Array; r: number } {
  return { g: stats.sumG[index].map((sum) => sum / stats.count), r: stats.sumR[index] / stats.count };
}

/**
 * Pairs each group of the stats with its weights, dividing the sums by the sample count.
 * Checks the stats and weights describe the same model layout; returns graph order.
 */
export function meanStatisticsPerGroup(stats: GradStats, weights: GroupWeights): GroupStatistics[] {
  return pairWithWeights(stats, weights).map(({ entry, index }) => ({ entry, ...meanOf(stats, index) }));
}

/**
 * As meanStatisticsPerGroup, with each group's per-batch statistics; `reader` names what needs
 * them in the error raised when the stats have none.
 */
export function batchStatisticsPerGroup(stats: GradStats, weights: GroupWeights, reader: string): GroupBatchStatistics[] {
  const batches = stats.batches;
  if (batches === undefined) {
    const [start, end] = stats.header.sampleRange;
    throw new Error(
      `${reader} needs per-batch gradient statistics, which the statistics of samples [${start}, ${end}) lack (written in format version 1, or merged with such or from layer shards batched differently); compute them again`,
    );
  }
  return pairWithWeights(stats, weights).map(({ entry, index }) => ({
    entry,
    ...meanOf(stats, index),
    sizes: batches.sizes,
    fDotG: batches.fDotG[index],
    gSquaredNorm: batches.gSquaredNorm[index],
    batchR: batches.r[index],
    sumSquaredG: batches.sumSquaredG[index],
  }));
}
