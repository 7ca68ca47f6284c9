import type { GroupWeightEntry, GroupWeights } from './group-weights';
import type { ScoreMethod, ScoreTable } from './score-table';
import { scoreRow } from './score-table';
import { isUnitMember, unitNodeName } from '@ippro/graph';

/**
 * The groups whose unit members come from exactly the same layers, in graph order: one layer's
 * filters, or every channel of one residual stream (all branches feeding its Adds). The
 * per-layer criteria (Torch-Pruning's normalisers, LAMP, FPGM) compare a group with these.
 */
export function layerSets(weights: GroupWeights): GroupWeightEntry[][] {
  const sets = new Map<string, GroupWeightEntry[]>();
  for (const entry of weights.groups) {
    const layers = [...new Set(entry.group.members.filter(isUnitMember).map(unitNodeName))].join('\u0000');
    sets.set(layers, [...(sets.get(layers) ?? []), entry]);
  }
  return [...sets.values()];
}

function tableOfSets(method: ScoreMethod, weights: GroupWeights, scoreSet: (set: readonly GroupWeightEntry[]) => number[]): ScoreTable {
  const scores = new Map<GroupWeightEntry, number>();
  for (const set of layerSets(weights)) {
    scoreSet(set).forEach((score, position) => scores.set(set[position], score));
  }
  return { method, rows: weights.groups.map((entry) => scoreRow(entry.group, scores.get(entry) as number)) };
}

/**
 * Squared L2 norm of every parameter coupled to the group: F_g (the units' output-channel
 * slices), gamma^2 of its batch-norm members, and the consumers' input-channel slices.
 */
function coupledSquaredNorm(entry: GroupWeightEntry): number {
  let sum = entry.consumerSquaredNorm;
  for (const value of entry.f) {
    sum += value * value;
  }
  for (const gamma of entry.batchNormGammas) {
    sum += gamma * gamma;
  }
  return sum;
}

/**
 * Torch-Pruning's GroupNormImportance (p = 2, mean reduction, mean normaliser): the coupled
 * squared norm divided by its mean over the group's layer set (0 for a set whose mean is 0).
 */
export function groupNormScores(weights: GroupWeights): ScoreTable {
  return tableOfSets('group-norm', weights, (set) => {
    const sums = set.map(coupledSquaredNorm);
    const mean = sums.reduce((total, value) => total + value, 0) / sums.length;
    return sums.map((value) => (mean > 0 ? value / mean : 0));
  });
}

/**
 * LAMP (Lee et al., ICLR 2021) over the coupled squared norms of each layer set: sorted
 * ascending (ties by graph order), score_i / sum_{j >= i} score_j. The largest of a set is 1.
 */
export function lampScores(weights: GroupWeights): ScoreTable {
  return tableOfSets('lamp', weights, (set) => {
    const sums = set.map(coupledSquaredNorm);
    const ascending = sums.map((_, position) => position).sort((a, b) => sums[a] - sums[b] || a - b);
    const scores = new Array<number>(set.length);
    let remaining = 0;
    for (let rank = ascending.length - 1; rank >= 0; rank--) {
      const position = ascending[rank];
      remaining += sums[position];
      scores[position] = remaining > 0 ? sums[position] / remaining : 0;
    }
    return scores;
  });
}

/**
 * FPGM (He et al., CVPR 2019): the sum of Euclidean distances from F_g to the F_h of every
 * group of its layer set. Groups near the set's geometric median score lowest and go first.
 */
export function fpgmScores(weights: GroupWeights): ScoreTable {
  return tableOfSets('fpgm', weights, (set) => {
    const size = set[0].f.length;
    const odd = set.find((entry) => entry.f.length !== size);
    if (odd !== undefined) {
      throw new Error(`fpgm: group '${odd.group.id}' has ${odd.f.length} weights, group '${set[0].group.id}' of the same layers ${size}`);
    }
    const distances = set.map(() => 0);
    set.forEach((a, i) => {
      for (let j = i + 1; j < set.length; j++) {
        const b = set[j].f;
        let squares = 0;
        a.f.forEach((value, k) => (squares += (value - b[k]) * (value - b[k])));
        const distance = Math.sqrt(squares);
        distances[i] += distance;
        distances[j] += distance;
      }
    });
    return distances;
  });
}
