import { appendFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { batchAt, batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { SgdTrainer } from '@ippro/models';
import type { SgdState } from '@ippro/models';
import { writeCheckpoint } from './checkpoint';
import type { CheckpointState, DataIdentity, EpochRecord } from './checkpoint';
import { evaluateOn } from './evaluate-on';
import { learningRateOf, validateTrainConfig } from './train-config';
import type { TrainConfig } from './train-config';

/** Reported after every step. Loss and accuracy are running means over the epoch so far. */
export interface StepProgress {
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, 1..batches. */
  batch: number;
  batches: number;
  step: number;
  learningRate: number;
  loss: number;
  accuracy: number;
  /** Training throughput of the epoch so far, input pipeline included. */
  imagesPerSecond: number;
}

export type TrainEvent =
  | ({ kind: 'step' } & StepProgress)
  | { kind: 'evaluating'; epoch: number; done: number; total: number }
  | ({ kind: 'epoch' } & EpochRecord);

export interface TrainEpochsOptions {
  model: LayersModel;
  train: LabeledDataset;
  /** Evaluated (in inference mode) after every epoch, when given. */
  evaluation?: LabeledDataset;
  config: TrainConfig;
  /** Written after every epoch (see writeCheckpoint); none when undefined. */
  checkpointDir?: string;
  /** JSON lines, one per epoch (and one per start/resume), appended. */
  logFile?: string;
  /** Describes the model in checkpoints (e.g. { arch: 'resnet20' }). */
  modelInfo?: Record<string, unknown>;
  /** Continue a run: the checkpoint's state and optimizer (model: the checkpoint's model). */
  resume?: { state: CheckpointState; optimizer: SgdState };
  /** Stop once this many epochs are done (a later resume continues); default config.epochs. */
  stopAfterEpochs?: number;
  onEvent?: (event: TrainEvent) => void;
}

export interface TrainEpochsResult {
  epochsDone: number;
  step: number;
  /** True when all config.epochs are done. */
  complete: boolean;
  history: EpochRecord[];
}

/**
 * Epoch-based SGD: epoch e visits every training sample once, in the order
 * epochPermutation(size, seed, e), augmented with cropFlipFor(seed, e, i); the rate follows the
 * config's schedule per step; after each epoch the model is evaluated and a checkpoint (model,
 * momentum buffers, step, epoch, RNG state) is written, so a run resumed from it ends with the
 * same weights, bit for bit, as one that was never interrupted (on a deterministic backend).
 */
export async function trainEpochs(options: TrainEpochsOptions): Promise<TrainEpochsResult> {
  const { model, train, evaluation, config } = options;
  validateTrainConfig(config);
  const batches = batchCount(train, config.batchSize);
  const data: DataIdentity = {
    train: train.description,
    trainSize: train.size,
    ...(evaluation ? { eval: evaluation.description } : {}),
  };
  const start = options.resume?.state;
  if (start) checkResumable(start, data, config);
  let epoch = start?.epochsDone ?? 0;
  let step = start?.step ?? 0;
  const history = [...(start?.history ?? [])];
  const stopAt = Math.min(config.epochs, options.stopAfterEpochs ?? config.epochs);
  const trainer = new SgdTrainer(model, config.sgd);
  try {
    if (options.resume) await trainer.importState(options.resume.optimizer);
    await log(options.logFile, start ? { event: 'resume', epoch, step } : { event: 'start', config, data, model: options.modelInfo ?? {} });
    while (epoch < stopAt) {
      const record = await trainOneEpoch(trainer, options, epoch, step, batches);
      epoch += 1;
      step = record.step;
      history.push(record);
      if (options.checkpointDir !== undefined) {
        const optimizer = await trainer.exportState();
        try {
          await writeCheckpoint(options.checkpointDir, model, optimizer, {
            epochsDone: epoch,
            step,
            learningRate: record.learningRate,
            config,
            data,
            model: options.modelInfo ?? {},
            rng: { seed: config.seed, nextEpoch: epoch },
            history,
          });
        } finally {
          tf.dispose(optimizer.momentum.map((entry) => entry.tensor));
        }
      }
      await log(options.logFile, { event: 'epoch', ...record });
      options.onEvent?.({ kind: 'epoch', ...record });
    }
  } finally {
    trainer.dispose();
  }
  return { epochsDone: epoch, step, complete: epoch >= config.epochs, history };
}

async function trainOneEpoch(
  trainer: SgdTrainer,
  options: TrainEpochsOptions,
  epoch: number,
  firstStep: number,
  batches: number,
): Promise<EpochRecord> {
  const { train, config } = options;
  const started = performance.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let learningRate = config.sgd.learningRate;
  for (let index = 0; index < batches; index++) {
    const step = firstStep + index;
    learningRate = learningRateOf(config, batches, step);
    trainer.learningRate = learningRate;
    const batch = batchAt(train, { batchSize: config.batchSize, index, epoch, seed: config.seed, shuffle: true, augment: config.augment });
    try {
      const metrics = trainer.stepWithMetrics(batch);
      lossSum += metrics.loss * metrics.count;
      correct += metrics.correct;
      seen += metrics.count;
    } finally {
      batch.dispose();
    }
    options.onEvent?.({
      kind: 'step',
      epoch: epoch + 1,
      epochs: config.epochs,
      batch: index + 1,
      batches,
      step: step + 1,
      learningRate,
      loss: lossSum / seen,
      accuracy: correct / seen,
      imagesPerSecond: seen / ((performance.now() - started) / 1000),
    });
    // Lets signals, timers and I/O in; keeps a long epoch from starving the event loop.
    if (index % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  const trainSeconds = (performance.now() - started) / 1000;
  const record: EpochRecord = {
    epoch: epoch + 1,
    step: firstStep + batches,
    learningRate,
    trainLoss: lossSum / seen,
    trainAccuracy: correct / seen,
    imagesPerSecond: seen / trainSeconds,
    seconds: 0,
  };
  if (options.evaluation) {
    const sums = evaluateOn(options.model, options.evaluation, config.evalBatchSize, (done, total) =>
      options.onEvent?.({ kind: 'evaluating', epoch: epoch + 1, done, total }),
    );
    record.evalLoss = sums.lossSum / sums.count;
    record.evalAccuracy = sums.correct / sums.count;
  }
  record.seconds = (performance.now() - started) / 1000;
  return record;
}

function checkResumable(state: CheckpointState, data: DataIdentity, config: TrainConfig): void {
  if (state.data.train !== data.train || state.data.trainSize !== data.trainSize) {
    throw new Error(`the checkpoint was trained on ${state.data.train} (${state.data.trainSize} samples), not ${data.train} (${data.trainSize})`);
  }
  if (JSON.stringify(state.config) !== JSON.stringify(config)) {
    throw new Error('the checkpoint was written with other training settings; resume with the settings it records');
  }
}

async function log(file: string | undefined, entry: Record<string, unknown>): Promise<void> {
  if (file === undefined) return;
  await appendFile(file, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}
