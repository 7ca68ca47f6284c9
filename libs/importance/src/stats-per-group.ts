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

/**
 * Pairs each group of the stats with its weights, dividing the sums by the sample count.
 * Checks the stats and weights describe the same model layout; returns graph order.
 */
export function meanStatisticsPerGroup(stats: GradStats, weights: GroupWeights): GroupStatistics[] {
  validateGradStats(stats);
  if (stats.count === 0) {
    throw new Error('gradient stats hold no samples (count 0); nothing to score');
  }
  if (stats.header.includeBias !== weights.includeBias) {
    throw new Error(`gradient stats have includeBias=${stats.header.includeBias} but the weights were read with includeBias=${weights.includeBias}`);
  }
  const entries = new Map(weights.groups.map((entry) => [entry.group.id, entry]));
  const result = stats.header.groupIds.map((id, index) => {
    const entry = entries.get(id);
    if (entry === undefined) {
      throw new Error(`group '${id}' of the gradient stats is not a prunable group of model '${weights.modelName}'`);
    }
    if (entry.f.length !== stats.header.fSizes[index]) {
      throw new Error(`group '${id}': F has ${entry.f.length} weights but the stats were computed for ${stats.header.fSizes[index]}`);
    }
    return { entry, g: stats.sumG[index].map((sum) => sum / stats.count), r: stats.sumR[index] / stats.count };
  });
  return result.sort((a, b) => a.entry.group.index - b.entry.group.index);
}
