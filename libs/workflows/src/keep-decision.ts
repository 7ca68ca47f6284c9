import type { PruneWorkflowResult, RoundMetrics } from '@ippro/workflow-core';

export interface KeepDecision {
  kept: boolean;
  reason: string;
  result: RoundMetrics;
}

/** Comparisons of top-1 fractions tolerate float rounding, not a single misclassified sample. */
const TOLERANCE = 1e-9;

const points = (fraction: number): string => `${(fraction * 100).toFixed(2)}`;

/** The metrics of the round whose model is the run's result (round 0: the input model). */
export function resultMetrics(result: PruneWorkflowResult): RoundMetrics {
  if (result.resultRound === 0) return result.baseline;
  const round = result.history.find((metrics) => metrics.round === result.resultRound);
  if (round === undefined) throw new Error(`the run's history has no round ${result.resultRound}`);
  return round;
}

/**
 * Whether a scheduled run's result replaces the kept model: it must have removed something, and
 * its top-1 may be at most `accuracyBudget` (a fraction) below the input model's.
 */
export function keepDecision(result: PruneWorkflowResult, accuracyBudget: number): KeepDecision {
  const metrics = resultMetrics(result);
  const baseline = result.baseline;
  if (result.resultRound === 0) {
    const why = result.reason === undefined ? result.stoppedBecause : `${result.stoppedBecause}: ${result.reason}`;
    return { kept: false, reason: `no round removed anything within the run's limits (${why})`, result: metrics };
  }
  const drop = baseline.top1 - metrics.top1;
  const summary = `top-1 ${points(metrics.top1)}% against ${points(baseline.top1)}% before, FLOPs ${points(metrics.flops / baseline.flops)}% of the input model`;
  if (drop > accuracyBudget + TOLERANCE) {
    return { kept: false, reason: `${summary}: ${points(drop)} points lost, over the budget of ${points(accuracyBudget)}`, result: metrics };
  }
  return { kept: true, reason: `${summary}: within the budget of ${points(accuracyBudget)} points`, result: metrics };
}
