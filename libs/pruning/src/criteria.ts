import {
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
import type { GradStats, GroupWeights, ProscoreOptions, ScoreTable } from '@ippro/importance';
import { PruningInputError } from './pruning-input-error';

/** The importance criteria a user can prune by; all produce the same score table shape. */
export const CRITERIA = ['proscore', 'l1', 'l2', 'taylor', 'taylor-batch', 'fisher', 'bn', 'group-norm', 'lamp', 'fpgm', 'random'] as const;

export type Criterion = (typeof CRITERIA)[number];

export function parseCriterion(text: string): Criterion {
  const criterion = CRITERIA.find((candidate) => candidate === text);
  if (criterion === undefined) {
    throw new PruningInputError(`unknown criterion '${text}': expected one of ${CRITERIA.join(', ')}`);
  }
  return criterion;
}

const GRADIENT_CRITERIA: readonly Criterion[] = ['proscore', 'taylor', 'taylor-batch', 'fisher'];

/** PROscore, Taylor and Fisher need a pass over data; magnitudes and batch-norm scale need none. */
export function needsGradientStats(criterion: Criterion): boolean {
  return GRADIENT_CRITERIA.includes(criterion);
}

export interface CriterionInputs {
  weights: GroupWeights;
  /** Required by the gradient criteria. */
  stats?: GradStats;
  lambda?: number;
  /** How PROscore is read; 'trajectory' is refused here (it needs the batch stream, not statistics). */
  proscoreReading?: Pick<ProscoreOptions, 'reading' | 'order' | 'weightDecay'>;
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
