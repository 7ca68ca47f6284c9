import { learningRateAt, validateOptimizerSettings, validateSchedule } from '@ippro/models';
import type { AdamWSettings, LearningRateSchedule, OptimizerKind, ScheduleKind, SgdSettings } from '@ippro/models';

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
  /**
   * Base learning rate, weight decay and label smoothing of either optimizer, and SGD's momentum
   * and Nesterov (absent with AdamW). Named for SGD, the first optimizer, so that checkpoints and
   * summaries of every run read alike.
   */
  sgd: SgdSettings;
  /**
   * AdamW's betas and epsilon: the run trains with AdamW, its weight decay decoupled. Absent: SGD
   * with momentum (and so in every checkpoint written before AdamW existed).
   */
  optimizer?: AdamWSettings;
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

/** The trainer's settings for a config: its sgd settings, with AdamW when the config names it. */
export function trainerSettings(config: TrainConfig): SgdSettings {
  return config.optimizer === undefined ? config.sgd : { ...config.sgd, optimizer: config.optimizer };
}

/** The optimizer of a run and its parameters, as train-log.jsonl and summary.json record it. */
export type OptimizerRecord =
  | { kind: 'sgd'; learningRate: number; momentum: number; nesterov: boolean; weightDecay: number }
  | { kind: 'adamw'; learningRate: number; beta1: number; beta2: number; epsilon: number; weightDecay: number };

export function optimizerOf(config: TrainConfig): OptimizerRecord {
  const { learningRate, weightDecay = 0 } = config.sgd;
  if (config.optimizer === undefined) {
    return { kind: 'sgd', learningRate, momentum: config.sgd.momentum ?? 0.9, nesterov: config.sgd.nesterov ?? false, weightDecay };
  }
  const { beta1, beta2, epsilon } = config.optimizer;
  return { kind: 'adamw', learningRate, beta1, beta2, epsilon, weightDecay };
}

export function optimizerKindOf(config: TrainConfig): OptimizerKind {
  return config.optimizer?.kind ?? 'sgd';
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
  validateOptimizerSettings(trainerSettings(config));
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
