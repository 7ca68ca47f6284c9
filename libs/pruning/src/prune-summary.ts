import type { RemovalPlan, PruningTarget } from '@ippro/planner';
import type { Criterion } from './criteria';

/** The model's size and quality after a round (round 0 is the input model). */
export interface RoundMetrics {
  round: number;
  params: number;
  /** Multiply-accumulates per image (the usual "FLOPs" of pruning papers). */
  flops: number;
  channels: number;
  top1: number;
  loss: number;
  evaluated: number;
  /** Groups removed in this round. */
  removedGroups: number;
  fineTuneLoss?: number;
  seconds: number;
  plan?: RemovalPlan;
}

export type StopReason = 'target-reached' | 'rounds-done' | 'accuracy-budget' | 'nothing-to-remove';

export interface PruneSummary {
  criterion: Criterion;
  target: PruningTarget;
  rounds: number;
  baseline: RoundMetrics;
  history: RoundMetrics[];
  /** The round whose model is the result (0 = the input model). */
  resultRound: number;
  stoppedBecause: StopReason;
  /** Cumulative group ids removed from the input model to obtain the result. */
  removedGroupIds: string[];
}
