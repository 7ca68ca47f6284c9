import { createHash } from 'node:crypto';
import type { GradStats } from './grad-stats';
import type { GroupWeightEntry, GroupWeights } from './group-weights';
import type { ScoreMethod, ScoreTable } from './score-table';
import { meanStatisticsPerGroup } from './stats-per-group';
import { dot, l1Norm, l2Norm } from './vector-math';

function tableOf(method: ScoreMethod, weights: GroupWeights, score: (entry: GroupWeightEntry) => number): ScoreTable {
  const rows = weights.groups.map((entry) => ({
    id: entry.group.id,
    index: entry.group.index,
    members: entry.group.members,
    score: score(entry),
  }));
  return { method, rows };
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

/** First-order Taylor (Molchanov et al. 2019): |sum(G_g * F_g)| for the groups in the stats. */
export function taylorScores(stats: GradStats, weights: GroupWeights): ScoreTable {
  const rows = meanStatisticsPerGroup(stats, weights).map(({ entry, g }) => ({
    id: entry.group.id,
    index: entry.group.index,
    members: entry.group.members,
    score: Math.abs(dot(g, entry.f)),
  }));
  return { method: 'taylor', rows };
}
