import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { SgdTrainer, decayedLearningRate } from '@ippro/models';
import type { SgdSettings } from '@ippro/models';
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
}

export interface FineTuneResult {
  steps: number;
  samples: number;
  meanLoss: number;
}

/**
 * K steps of SGD on shuffled batches. Step s uses batch s mod B of epoch floor(s / B), so the
 * data a step sees depends only on the dataset, the seed and the step number.
 */
export function fineTune(
  model: LayersModel,
  dataset: LabeledDataset,
  settings: FineTuneSettings,
  onStep?: (done: number, loss: number) => void,
): FineTuneResult {
  const trainer = new SgdTrainer(model, settings);
  const perEpoch = batchCount(dataset, settings.batchSize);
  const augment = settings.augment ?? dataset.sampleShape.length === 3;
  let samples = 0;
  let lossSum = 0;
  try {
    for (let done = 0; done < settings.steps; done += 1) {
      const step = (settings.firstStep ?? 0) + done;
      const range = { start: step % perEpoch, end: (step % perEpoch) + 1 };
      const epoch = Math.floor(step / perEpoch);
      const batchSettings = { batchSize: settings.batchSize, epoch, seed: settings.seed, shuffle: true, augment };
      trainer.learningRate = decayedLearningRate(settings.learningRate, settings.cosineDecay, step);
      for (const batch of datasetBatches(dataset, range, batchSettings)) {
        const loss = trainer.step(batch);
        const size = batch.labels.length;
        samples += size;
        lossSum += loss * size;
        onStep?.(done + 1, loss);
      }
    }
  } finally {
    trainer.dispose();
  }
  return { steps: settings.steps, samples, meanLoss: samples === 0 ? 0 : lossSum / samples };
}
