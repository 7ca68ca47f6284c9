import type { LayerBudget } from './layer-budget';
import { removalChunk } from './removal-chunk';
import type { RemovalCandidate } from './removal-candidate';

export interface GreedyContext {
  budget: LayerBudget;
  roundTo: number;
  layerPosition: ReadonlyMap<string, number>;
  /** Groups removed in earlier rounds. */
  removed: ReadonlySet<number>;
  /** The metric of the model with these groups removed. */
  measure: (removedGroups: ReadonlySet<number>) => number;
  /** True once a metric value meets the round's goal. */
  meetsGoal: (metric: number) => boolean;
}

export interface GreedySelection {
  /** Group indices in the order they were chosen. */
  chosen: number[];
  metricAfter: number;
  reachedGoal: boolean;
  /** Candidates passed over because a layer limit (or roundTo alignment) forbade them. */
  skippedByLimits: number;
}

/**
 * Takes candidates in ranking order while the goal is unmet, skipping those a layer limit
 * forbids, and stops as soon as the goal is met: the overshoot is at most the last chunk (one
 * group without roundTo). A skipped candidate stays skipped: limits only tighten as more goes.
 * The metric is re-measured after every chunk because costs are not additive (a conv's MACs
 * shrink with both its input and its output channels).
 */
export function selectGreedily(order: readonly RemovalCandidate[], context: GreedyContext): GreedySelection {
  const chosen = new Set<number>();
  const selection: GreedySelection = {
    chosen: [],
    metricAfter: context.measure(context.removed),
    reachedGoal: false,
    skippedByLimits: 0,
  };
  for (const leader of order) {
    if (chosen.has(leader.index)) {
      continue;
    }
    const chunk = removalChunk(leader, { ...context, order, chosen });
    if (!chunk) {
      selection.skippedByLimits += 1;
      continue;
    }
    for (const candidate of chunk) {
      chosen.add(candidate.index);
      selection.chosen.push(candidate.index);
      context.budget.record(candidate.layers);
    }
    selection.metricAfter = context.measure(new Set([...context.removed, ...chosen]));
    if (context.meetsGoal(selection.metricAfter)) {
      selection.reachedGoal = true;
      break;
    }
  }
  return selection;
}
