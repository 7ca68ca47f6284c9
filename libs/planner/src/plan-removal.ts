import { modelCost, type ChannelGraph } from '@ippro/graph';
import { rankCandidates } from './candidate-ranking';
import type { CostFunction } from './cost-function';
import { eligibleCandidates } from './eligible-candidates';
import { selectGreedily, type GreedySelection } from './greedy-selection';
import { groupIndexById, scoresByGroupIndex } from './group-scores';
import { unitChannelsByLayer } from './group-unit-layers';
import { LayerBudget } from './layer-budget';
import { resolvePlanRemovalInput, type PlanRemovalInput, type ResolvedPlanRemovalInput } from './plan-removal-input';
import { metricValue, validateTarget, type TargetMetric } from './pruning-target';
import type { RemovalPlan } from './removal-plan';
import { cumulativeGoalFraction } from './removal-schedule';

/** Relative slack so a goal met up to floating-point rounding counts as met. */
const GOAL_TOLERANCE = 1e-9;

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

function removedIndices(graph: ChannelGraph, ids: readonly string[], indexById: ReadonlyMap<string, number>): Set<number> {
  return new Set(
    ids.map((id) => {
      const index = indexById.get(id);
      if (index === undefined) {
        throw new Error(`removedGroupIds names group ${JSON.stringify(id)}, which is not in the graph`);
      }
      if (!graph.groups[index].prunable) {
        throw new Error(`removedGroupIds names group ${id}, which is not prunable and cannot have been removed`);
      }
      return index;
    }),
  );
}

type Meter = (removed: ReadonlySet<number>) => number;

function metricMeter(graph: ChannelGraph, cost: CostFunction, metric: TargetMetric): Meter {
  return (removed: ReadonlySet<number>): number => {
    const value = metricValue(cost(graph, removed), metric);
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`cost function returned ${metric} = ${String(value)}; expected a finite number >= 0`);
    }
    return value;
  };
}

function layerBudgetAfter(options: ResolvedPlanRemovalInput, removed: ReadonlySet<number>): LayerBudget {
  const budget = new LayerBudget(options.graph, options);
  for (const index of removed) {
    budget.record(unitChannelsByLayer(options.graph.groups[index]));
  }
  return budget;
}

function shortfallReason(selection: GreedySelection, keptForGood: number, roundTo: number, reached: number): string {
  const limits = roundTo > 1 ? 'maxLayerRatio/minChannels/roundTo' : 'maxLayerRatio/minChannels';
  return (
    `ran out of removable groups at ${percent(reached)} removed: ` +
    `${selection.skippedByLimits} candidate group(s) skipped by layer limits (${limits}), ` +
    `${keptForGood} group(s) never removable (not prunable, ignored or output layer, a kind not in groupKinds, or score +Infinity)`
  );
}

/** Measures one metric against the original model and the round's goal. */
interface GoalMeter {
  measure: Meter;
  metricOriginal: number;
  removedFraction: (metric: number) => number;
  meetsGoal: (metric: number) => boolean;
}

function goalMeter(graph: ChannelGraph, cost: CostFunction, metric: TargetMetric, goalFraction: number): GoalMeter {
  const measure = metricMeter(graph, cost, metric);
  const metricOriginal = measure(new Set());
  if (metricOriginal <= 0) {
    throw new Error(`the model's ${metric} is 0; there is nothing to remove`);
  }
  const removedFraction = (value: number): number => (metricOriginal - value) / metricOriginal;
  const meetsGoal = (value: number): boolean => removedFraction(value) >= goalFraction - GOAL_TOLERANCE;
  return { measure, metricOriginal, removedFraction, meetsGoal };
}

/** The greedy pass over this round's candidates. */
function chooseGroups(
  options: ResolvedPlanRemovalInput,
  scores: ReadonlyMap<number, number>,
  removed: ReadonlySet<number>,
  meter: GoalMeter,
): { selection: GreedySelection; keptForGood: number } {
  const { graph } = options;
  const budget = layerBudgetAfter(options, removed);
  const protectedLayers = new Set([...options.ignoredLayers, ...graph.outputLayers]);
  const pool = eligibleCandidates(graph, scores, removed, protectedLayers, new Set(options.groupKinds));
  const order = rankCandidates(pool.candidates, options.ranking, budget);
  const layerPosition = new Map(graph.layers.map((layer, position) => [layer.name, position]));
  const { measure, meetsGoal } = meter;
  const selection = selectGreedily(order, { budget, roundTo: options.roundTo, layerPosition, removed, measure, meetsGoal });
  return { selection, keptForGood: pool.keptForGood };
}

/**
 * Chooses the groups to remove in one round of a run (IPPRO.md §5). The greedy pass takes
 * candidates in ranking order until the schedule's cumulative goal for this round is met, never
 * letting a layer lose more than `maxLayerRatio` of its original width or keep fewer than
 * `minChannels`. `cost` predicts the model's cost with groups removed; it defaults to the graph's.
 */
export function planRemoval(input: PlanRemovalInput, cost: CostFunction = modelCost): RemovalPlan {
  const options = resolvePlanRemovalInput(input);
  const { graph, target, round, rounds } = options;
  validateTarget(target);
  const goalFraction = cumulativeGoalFraction(target.fraction, round, rounds, options.schedule);
  const indexById = groupIndexById(graph);
  const scores = scoresByGroupIndex(options.scores, indexById);
  const removed = removedIndices(graph, options.removedGroupIds, indexById);
  const meter = goalMeter(graph, cost, target.metric, goalFraction);
  const metricBefore = meter.measure(removed);
  const plan = { round, rounds, metric: target.metric, metricOriginal: meter.metricOriginal, metricBefore, goalFraction };

  if (meter.meetsGoal(metricBefore)) {
    const removedBefore = meter.removedFraction(metricBefore);
    const reason =
      `target already met: ${percent(removedBefore)} of the original ${target.metric} ` +
      `removed before round ${round}, goal ${percent(goalFraction)}`;
    return { ...plan, groupIds: [], metricAfter: metricBefore, removedFraction: removedBefore, reachedGoal: true, reason };
  }

  const { selection, keptForGood } = chooseGroups(options, scores, removed, meter);
  const removedAfter = meter.removedFraction(selection.metricAfter);
  const result: RemovalPlan = {
    ...plan,
    groupIds: [...selection.chosen].sort((a, b) => a - b).map((index) => graph.groups[index].id),
    metricAfter: selection.metricAfter,
    removedFraction: removedAfter,
    reachedGoal: selection.reachedGoal,
  };
  if (!selection.reachedGoal) {
    result.reason = shortfallReason(selection, keptForGood, options.roundTo, removedAfter);
  }
  return result;
}
