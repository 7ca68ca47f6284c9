import { learningRateAt, validateSchedule } from '@ippro/models';
import type { LearningRateSchedule, ScheduleKind, SgdSettings } from '@ippro/models';

/**
 * Everything that decides a run's result, in epochs rather than steps. It is saved in every
 * checkpoint: a resumed run continues with exactly these settings.
 */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Seeds the per-epoch shuffle (epochPermutation(seed, epoch)) and augmentation. */
  seed: number;
  /** Pad-crop-flip augmentation of the training images. */
  augment: boolean;
  /** Base learning rate, momentum, Nesterov, weight decay, label smoothing. */
  sgd: SgdSettings;
  schedule: ScheduleConfig;
  /** Batch size of the evaluation after each epoch. */
  evalBatchSize: number;
}

export interface ScheduleConfig {
  kind: ScheduleKind;
  /** Linear warm-up over this many epochs (may be fractional). Default 0. */
  warmupEpochs?: number;
  /** 'step': epochs at which the rate is multiplied by gamma. Default: 50% and 75% of the run. */
  milestones?: number[];
  /** 'step': default 0.1. */
  gamma?: number;
  /** 'cosine': the final rate. Default 0. */
  minLr?: number;
}

/** The per-step schedule of a config for a training set of `stepsPerEpoch` batches. */
export function stepSchedule(config: TrainConfig, stepsPerEpoch: number): LearningRateSchedule {
  const baseLr = config.sgd.learningRate;
  const warmupSteps = Math.round((config.schedule.warmupEpochs ?? 0) * stepsPerEpoch);
  const totalSteps = config.epochs * stepsPerEpoch;
  switch (config.schedule.kind) {
    case 'constant':
      return { kind: 'constant', baseLr, warmupSteps };
    case 'cosine':
      return { kind: 'cosine', baseLr, totalSteps, warmupSteps, minLr: config.schedule.minLr ?? 0 };
    case 'step': {
      const epochs = config.schedule.milestones ?? defaultMilestones(config.epochs);
      return { kind: 'step', baseLr, warmupSteps, milestones: epochs.map((epoch) => epoch * stepsPerEpoch), gamma: config.schedule.gamma ?? 0.1 };
    }
  }
}

/** Half and three quarters of the run (the usual CIFAR recipe: 100 and 150 of 200 epochs). */
export function defaultMilestones(epochs: number): number[] {
  return [...new Set([Math.round(epochs * 0.5), Math.round(epochs * 0.75)])].filter((epoch) => epoch >= 1);
}

export function learningRateOf(config: TrainConfig, stepsPerEpoch: number, step: number): number {
  return learningRateAt(stepSchedule(config, stepsPerEpoch), step);
}

/** Throws an Error naming the field when a config cannot be trained with. */
export function validateTrainConfig(config: TrainConfig): void {
  const positiveInt = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  };
  positiveInt('epochs', config.epochs);
  positiveInt('batchSize', config.batchSize);
  positiveInt('evalBatchSize', config.evalBatchSize);
  if (!Number.isSafeInteger(config.seed) || config.seed < 0) throw new Error(`seed must be a non-negative integer, got ${config.seed}`);
  const { momentum = 0.9, weightDecay = 0, labelSmoothing = 0 } = config.sgd;
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`momentum must be in [0, 1), got ${momentum}`);
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new Error(`weightDecay must be a non-negative number, got ${weightDecay}`);
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new Error(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  const warmup = config.schedule.warmupEpochs ?? 0;
  if (!(warmup >= 0) || warmup > config.epochs) throw new Error(`warmupEpochs must be in [0, epochs], got ${warmup}`);
  (config.schedule.milestones ?? []).forEach((epoch) => {
    if (!Number.isInteger(epoch) || epoch < 1 || epoch > config.epochs) {
      throw new Error(`milestone ${epoch} must be an epoch in 1..${config.epochs}`);
    }
  });
  // A schedule of one step per epoch checks the remaining fields (rates, gamma, ordering).
  validateSchedule(stepSchedule(config, 1));
}
