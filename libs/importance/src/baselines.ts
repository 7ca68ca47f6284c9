import { createHash } from 'node:crypto';
import type { GradStats } from './grad-stats';
import type { GroupWeightEntry, GroupWeights } from './group-weights';
import type { ScoreMethod, ScoreTable } from './score-table';
import { scoreRow } from './score-table';
import type { GroupStatistics } from './stats-per-group';
import { batchStatisticsPerGroup, meanStatisticsPerGroup } from './stats-per-group';
import { dot, l1Norm, l2Norm } from './vector-math';

function tableOf(method: ScoreMethod, weights: GroupWeights, score: (entry: GroupWeightEntry) => number): ScoreTable {
  return { method, rows: weights.groups.map((entry) => scoreRow(entry.group, score(entry))) };
}

/** L1 magnitude: sum |F_g|. */
export function l1Scores(weights: GroupWeights): ScoreTable {
  return tableOf('l1', weights, (entry) => l1Norm(entry.f));
}

/** L2 magnitude: ||F_g||. */
export function l2Scores(weights: GroupWeights): ScoreTable {
  return tableOf('l2', weights, (entry) => l2Norm(entry.f));
}

/** Network slimming: sum of |gamma| over the group's batchnorm members (0 without any). */
export function batchNormScaleScores(weights: GroupWeights): ScoreTable {
  return tableOf('bn_scale', weights, (entry) => entry.batchNormGammas.reduce((sum, gamma) => sum + gamma, 0));
}

/**
 * Random scores in [0, 1): from sha256(seed, group id), so each group's score depends only on
 * the seed and its id, never on the order or subset of groups scored.
 */
export function randomScores(weights: GroupWeights, seed: number): ScoreTable {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`random score seed must be a safe integer, got ${seed}`);
  }
  return tableOf('random', weights, (entry) => {
    const digest = createHash('sha256').update(`${seed}\u0000${entry.group.id}`).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  });
}

function tableOfStatistics<T extends GroupStatistics>(method: ScoreMethod, groups: readonly T[], score: (group: T) => number): ScoreTable {
  return { method, rows: groups.map((group) => scoreRow(group.entry.group, score(group))) };
}

/** First-order Taylor of the pooled gradient: |sum(G_g * F_g)| for the groups in the stats. */
export function taylorScores(stats: GradStats, weights: GroupWeights): ScoreTable {
  return tableOfStatistics('taylor', meanStatisticsPerGroup(stats, weights), ({ entry, g }) => Math.abs(dot(g, entry.f)));
}

/**
 * Taylor as Molchanov et al. 2019 define it: each batch's squared sum (F_g . G_b,g)^2, averaged
 * over batches weighted by batch size (sum_b n_b (F_g . G_b,g)^2 / N).
 */
export function taylorBatchScores(stats: GradStats, weights: GroupWeights): ScoreTable {
  return tableOfStatistics('taylor-batch', batchStatisticsPerGroup(stats, weights, "criterion 'taylor-batch'"), ({ sizes, fDotG }) => {
    let sum = 0;
    sizes.forEach((size, batch) => (sum += size * fDotG[batch] * fDotG[batch]));
    return sum / stats.count;
  });
}

/**
 * OBD-style saliency from squared mini-batch gradients: 1/2 sum_s F_s^2 * E[G_s^2], with
 * E[G_s^2] = sum_b n_b G_b,s^2 / N (batch-mean gradients, not per-sample ones).
 */
export function fisherScores(stats: GradStats, weights: GroupWeights): ScoreTable {
  return tableOfStatistics('fisher', batchStatisticsPerGroup(stats, weights, "criterion 'fisher'"), ({ entry, sumSquaredG }) => {
    let sum = 0;
    entry.f.forEach((value, s) => (sum += value * value * sumSquaredG[s]));
    return sum / (2 * stats.count);
  });
}
