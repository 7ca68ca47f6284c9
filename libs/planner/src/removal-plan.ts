import type { TargetMetric } from './pruning-target';

/** What one round removes: small and JSON-friendly so it can travel between workers. */
export interface RemovalPlan {
  round: number;
  rounds: number;
  metric: TargetMetric;
  /** Groups to remove this round, sorted by group index. */
  groupIds: string[];
  /** The metric of the original (unpruned) model. */
  metricOriginal: number;
  /** The metric before this round, with earlier rounds' groups removed. */
  metricBefore: number;
  /** The predicted metric once `groupIds` are removed as well. */
  metricAfter: number;
  /** Predicted fraction of the original metric removed once this round is done. */
  removedFraction: number;
  /** Fraction of the original metric this round had to reach (the schedule's cumulative goal). */
  goalFraction: number;
  reachedGoal: boolean;
  /** Why nothing was removed or the goal was not reached. */
  reason?: string;
}
