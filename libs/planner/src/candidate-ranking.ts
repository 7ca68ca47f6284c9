import type { LayerBudget } from './layer-budget';
import { compareByScoreThenIndex, type RemovalCandidate } from './removal-candidate';

/**
 * - `global`: one ranking across layers by score (IPPRO.md §5: a magnitude-indifferent score
 *   makes scores of different layers comparable).
 * - `uniform`: every layer is thinned at the same ratio of its original width, lowest scores
 *   first within the layer.
 */
export type Ranking = 'global' | 'uniform';

const RANKINGS: readonly Ranking[] = ['global', 'uniform'];

/** The order in which the greedy pass considers candidates. */
export function rankCandidates(
  candidates: readonly RemovalCandidate[],
  ranking: Ranking,
  budget: LayerBudget,
): RemovalCandidate[] {
  if (!RANKINGS.includes(ranking)) {
    throw new Error(`ranking must be one of ${RANKINGS.join(', ')}, got ${JSON.stringify(ranking)}`);
  }
  const byScore = [...candidates].sort(compareByScoreThenIndex);
  return ranking === 'global' ? byScore : rankUniformly(byScore, budget);
}

/**
 * Each candidate gets the removed ratio its layer would reach once it and every lower-scored
 * candidate of the layer are gone (channels lost in earlier rounds included, so layers catch up
 * to one another). Taking candidates in increasing ratio thins all layers in step. A group in
 * several layers takes the highest of its ratios: it goes when its most demanding layer is due.
 */
function rankUniformly(byScore: readonly RemovalCandidate[], budget: LayerBudget): RemovalCandidate[] {
  const ratio = new Map<RemovalCandidate, number>();
  const removedSoFar = new Map<string, number>();
  for (const candidate of byScore) {
    let highest = 0;
    for (const [layer, channels] of candidate.layers) {
      const removed = (removedSoFar.get(layer) ?? budget.removedIn(layer)) + channels;
      removedSoFar.set(layer, removed);
      highest = Math.max(highest, removed / budget.width(layer));
    }
    ratio.set(candidate, highest);
  }
  const ratioOf = (candidate: RemovalCandidate): number => ratio.get(candidate) ?? 0;
  return [...byScore].sort((a, b) => ratioOf(a) - ratioOf(b) || compareByScoreThenIndex(a, b));
}
