import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { SgdTrainer, decayedLearningRate } from '@ippro/models';
import type { Distillation, SgdSettings } from '@ippro/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { datasetBatches } from './dataset-batches';

export interface FineTuneSettings extends SgdSettings {
  steps: number;
  batchSize: number;
  seed: number;
  /** Global step to start from, so successive rounds continue through the data. Default 0. */
  firstStep?: number;
  /** Pad-crop-flip augmentation; default on for images (samples of rank 3). */
  augment?: boolean;
  /** Knowledge distillation from a teacher (which sees each augmented batch too); absent: the loss of the output kind alone. */
  distillation?: Distillation;
}

export interface FineTuneResult {
  steps: number;
  samples: number;
  meanLoss: number;
  lossSum: number;
}

/** Where a caller joins the loop: before each step (to stop, or yield) and after it. */
export interface FineTuneHooks {
  beforeStep?: () => Promise<void>;
  afterStep?: (done: number, samples: number, lossSum: number) => void;
}

interface StepLoop {
  trainer: SgdTrainer;
  dataset: LabeledDataset;
  settings: FineTuneSettings;
  perEpoch: number;
  augment: boolean;
}

/** Global step `step`: batch step mod B of epoch floor(step / B), at the step's learning rate. */
function trainStep(loop: StepLoop, step: number): { samples: number; lossSum: number } {
  const { trainer, dataset, settings, perEpoch, augment } = loop;
  const range = { start: step % perEpoch, end: (step % perEpoch) + 1 };
  const batchSettings = { batchSize: settings.batchSize, epoch: Math.floor(step / perEpoch), seed: settings.seed, shuffle: true, augment };
  trainer.learningRate = decayedLearningRate(settings.learningRate, settings.cosineDecay, step);
  let samples = 0;
  let lossSum = 0;
  for (const batch of datasetBatches(dataset, range, batchSettings)) {
    const loss = trainer.step(batch);
    samples += batch.labels.length;
    lossSum += loss * batch.labels.length;
  }
  return { samples, lossSum };
}

function startLoop(model: LayersModel, dataset: LabeledDataset, settings: FineTuneSettings): StepLoop {
  const augment = settings.augment ?? dataset.sampleShape.length === 3;
  return { trainer: new SgdTrainer(model, settings, settings.distillation), dataset, settings, perEpoch: batchCount(dataset, settings.batchSize), augment };
}

function resultOf(steps: number, samples: number, lossSum: number): FineTuneResult {
  return { steps, samples, lossSum, meanLoss: samples === 0 ? 0 : lossSum / samples };
}

/**
 * K steps of SGD on shuffled batches. Step s uses batch s mod B of epoch floor(s / B), so the
 * data a step sees depends only on the dataset, the seed and the step number.
 */
export function fineTune(model: LayersModel, dataset: LabeledDataset, settings: FineTuneSettings, onStep?: (done: number, loss: number) => void): FineTuneResult {
  const loop = startLoop(model, dataset, settings);
  let samples = 0;
  let lossSum = 0;
  try {
    for (let done = 0; done < settings.steps; done += 1) {
      const step = trainStep(loop, (settings.firstStep ?? 0) + done);
      samples += step.samples;
      lossSum += step.lossSum;
      onStep?.(done + 1, step.samples === 0 ? 0 : step.lossSum / step.samples);
    }
  } finally {
    loop.trainer.dispose();
  }
  return resultOf(settings.steps, samples, lossSum);
}

/** fineTune, step for step, with a hook before each step (a worker's cancellation point) and after it. */
export async function fineTuneWithHooks(model: LayersModel, dataset: LabeledDataset, settings: FineTuneSettings, hooks: FineTuneHooks): Promise<FineTuneResult> {
  const loop = startLoop(model, dataset, settings);
  let samples = 0;
  let lossSum = 0;
  try {
    for (let done = 0; done < settings.steps; done += 1) {
      await hooks.beforeStep?.();
      const step = trainStep(loop, (settings.firstStep ?? 0) + done);
      samples += step.samples;
      lossSum += step.lossSum;
      hooks.afterStep?.(done + 1, samples, lossSum);
    }
  } finally {
    loop.trainer.dispose();
  }
  return resultOf(settings.steps, samples, lossSum);
}
