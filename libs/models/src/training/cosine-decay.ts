import { learningRateAt } from './lr-schedule';

/**
 * A decay of the learning rate to 0 over global steps [startStep, startStep + steps): one pruning
 * round's fine-tuning, split into calls that each know only their own first step.
 */
export interface CosineDecay {
  startStep: number;
  steps: number;
}

/** The rate of global `step`: `learningRate` without a decay, else its point on the cosine. */
export function decayedLearningRate(learningRate: number, decay: CosineDecay | undefined | null, step: number): number {
  if (decay == null) return learningRate;
  const schedule = { kind: 'cosine' as const, baseLr: learningRate, totalSteps: Math.max(1, decay.steps) };
  return learningRateAt(schedule, Math.max(0, step - decay.startStep));
}

