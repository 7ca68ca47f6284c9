import { batchAt } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { SgdTrainer } from '@ippro/models';
import type { TrainConfig } from './train-config';

/** One training step's merged result. */
export interface StepOutcome {
  /** Mean loss over the batch (SGD's L2 weight decay included), as the optimizer minimised it. */
  loss: number;
  correct: number;
  count: number;
  /** Time the step waited for its input. */
  inputMilliseconds: number;
}

/** Takes the optimizer steps of a run, in this process or spread over several. */
export interface StepRunner {
  step(epoch: number, index: number, learningRate: number): Promise<StepOutcome>;
  /** After an epoch's last step, before evaluation and the checkpoint. */
  endEpoch(): Promise<void>;
  close(): Promise<void>;
}

/** Steps in this process: build batch `index` of `epoch`, then one step of the trainer on it. */
export function localStepRunner(trainer: SgdTrainer, train: LabeledDataset, config: TrainConfig): StepRunner {
  return {
    step: async (epoch, index, learningRate) => {
      trainer.learningRate = learningRate;
      const started = performance.now();
      const batch = batchAt(train, { batchSize: config.batchSize, index, epoch, seed: config.seed, shuffle: true, augment: config.augment });
      const inputMilliseconds = performance.now() - started;
      try {
        return { ...trainer.stepWithMetrics(batch), inputMilliseconds };
      } finally {
        batch.dispose();
      }
    },
    endEpoch: async () => undefined,
    close: async () => undefined,
  };
}
