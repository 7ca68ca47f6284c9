import {
  DEFAULT_LAMBDA,
  batchNormScaleScores,
  fisherScores,
  fpgmScores,
  groupNormScores,
  l1Scores,
  l2Scores,
  lampScores,
  proscoreFromStats,
  randomScores,
  taylorBatchScores,
  taylorScores,
} from '@ippro/importance';
import type { BatchNormMode, GradStats, GroupWeights, ProscoreOptions, ScoreTable, TrajectoryOptions } from '@ippro/importance';
import type { OutputSetting } from '@ippro/models';
import { CRITERION_NAMES, GRADIENT_CRITERION_NAMES } from '@ippro/workflow-core';
import type { CriterionName, ProscoreConfig } from '@ippro/workflow-core';
import { PruningInputError } from './pruning-input-error';

/** The importance criteria a user can prune by (@ippro/workflow-core's registry); all produce the same score table shape. */
export const CRITERIA = CRITERION_NAMES;

export type Criterion = CriterionName;

export function parseCriterion(text: string): Criterion {
  const criterion = CRITERIA.find((candidate) => candidate === text);
  if (criterion === undefined) {
    throw new PruningInputError(`unknown criterion '${text}': expected one of ${CRITERIA.join(', ')}`);
  }
  return criterion;
}

/** PROscore, Taylor and Fisher need a pass over data; magnitudes and batch-norm scale need none. */
export function needsGradientStats(criterion: Criterion): boolean {
  return GRADIENT_CRITERION_NAMES.includes(criterion);
}

/** A PROscore reading computed from gradient statistics (pooled or per-batch) as proscoreFromStats takes it. */
export type StatsReading = Pick<ProscoreOptions, 'reading' | 'order' | 'weightDecay'>;

/** The statistics reading of a ProscoreConfig; the trajectory is refused (it needs the batches, see trajectoryOptions). */
export function statsReading(proscore: ProscoreConfig | undefined): StatsReading {
  if (proscore === undefined) return {};
  const { reading, order, weightDecay } = proscore;
  if (reading === 'trajectory') throw new PruningInputError("PROscore reading 'trajectory' is computed from the scoring batches in order, not from gradient statistics");
  return { ...(reading === undefined ? {} : { reading }), ...(order === undefined ? {} : { order }), ...(weightDecay === undefined ? {} : { weightDecay }) };
}

/** What the trajectory's defaults depend on: the run's lambda and its scoring pass. */
export interface TrajectoryContext {
  lambda?: number;
  /** Batches of the scoring data: the default T. */
  scoringBatches: number;
  includeBias: boolean;
  batchNormMode: BatchNormMode;
  /** The model's output kind (@ippro/models), which picks the loss; 'auto' reads it from the model. */
  output: OutputSetting;
}

/** The trajectory's options, every default filled in. */
export type ResolvedTrajectory = Required<Omit<TrajectoryOptions, 'epsilon'>>;

/**
 * The trajectory reading's options: T defaults to every batch of the scoring data, the learning
 * rate to lambda (so T = 1 without weight decay is the first batch's pooled score), momentum to
 * fine-tuning's 0.9, weight decay to 0, the order to ascending.
 */
export function trajectoryOptions(proscore: ProscoreConfig, context: TrajectoryContext): ResolvedTrajectory {
  const trajectory = proscore.trajectory ?? {};
  const steps = trajectory.steps ?? context.scoringBatches;
  if (steps > context.scoringBatches) {
    throw new PruningInputError(`the trajectory takes ${steps} steps, one scoring batch each, but the scoring data has ${context.scoringBatches} batches`);
  }
  return {
    steps,
    learningRate: trajectory.learningRate ?? context.lambda ?? DEFAULT_LAMBDA,
    momentum: trajectory.momentum ?? 0.9,
    weightDecay: proscore.weightDecay ?? 0,
    order: proscore.order ?? 'ascending',
    includeBias: context.includeBias,
    batchNormMode: context.batchNormMode,
    output: context.output,
  };
}

export interface CriterionInputs {
  weights: GroupWeights;
  /** Required by the gradient criteria. */
  stats?: GradStats;
  lambda?: number;
  /** How PROscore is read; 'trajectory' is refused here (it needs the batch stream, not statistics). */
  proscoreReading?: StatsReading;
  /** Seeds the random baseline. */
  seed?: number;
}

export function scoreByCriterion(criterion: Criterion, inputs: CriterionInputs): ScoreTable {
  switch (criterion) {
    case 'proscore':
      return proscoreFromStats(requireStats(criterion, inputs), inputs.weights, { ...lambdaOption(inputs), ...inputs.proscoreReading });
    case 'taylor':
      return taylorScores(requireStats(criterion, inputs), inputs.weights);
    case 'taylor-batch':
      return taylorBatchScores(requireStats(criterion, inputs), inputs.weights);
    case 'fisher':
      return fisherScores(requireStats(criterion, inputs), inputs.weights);
    case 'l1':
      return l1Scores(inputs.weights);
    case 'l2':
      return l2Scores(inputs.weights);
    case 'bn':
      return batchNormScaleScores(inputs.weights);
    case 'group-norm':
      return groupNormScores(inputs.weights);
    case 'lamp':
      return lampScores(inputs.weights);
    case 'fpgm':
      return fpgmScores(inputs.weights);
    case 'random':
      return randomScores(inputs.weights, inputs.seed ?? 0);
  }
}

function lambdaOption(inputs: CriterionInputs): { lambda?: number } {
  return inputs.lambda === undefined ? {} : { lambda: inputs.lambda };
}

function requireStats(criterion: Criterion, inputs: CriterionInputs): GradStats {
  if (inputs.stats === undefined) {
    throw new Error(`criterion '${criterion}' needs gradient statistics`);
  }
  return inputs.stats;
}
