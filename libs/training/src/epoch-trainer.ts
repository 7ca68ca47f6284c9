import { appendFile } from 'node:fs/promises';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { SgdTrainer, disposeOptimizerState, evaluateDataset } from '@ippro/models';
import type { SgdState } from '@ippro/models';
import type { BackendName } from '@ippro/runtime';
import { activeBackendName } from './active-backend';
import { writeCheckpoint } from './checkpoint';
import type { CheckpointState, DataIdentity, EpochRecord } from './checkpoint';
import type { TrainDataSource } from './data-parallel/messages';
import { ReplicaGroup } from './data-parallel/replica-group';
import { localStepRunner } from './step-runner';
import type { StepRunner } from './step-runner';
import { learningRateOf, optimizerKindOf, optimizerOf, trainerSettings, validateTrainConfig } from './train-config';
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
  /** This step's wall time, input included. */
  stepMilliseconds: number;
  /**
   * Time this step waited for its input (read, shuffle, augment, normalise, tensors); with
   * several processes, the slowest one's.
   */
  inputMilliseconds: number;
}

/**
 * Data-parallel training: `processes` child processes each compute the gradients of their part
 * of every batch (contiguous, in rank order); the gradients are averaged, weighted by part size,
 * in a fixed order, and every copy of the model takes the same step. Batch norm normalises with
 * each part's own statistics (so with batch norm the result differs slightly from one process);
 * the moving statistics are averaged. After every epoch this process's model and optimizer take
 * over the children's state, for evaluation and checkpoints (in the one-process format).
 */
export interface DataParallelOptions {
  /** 2 or more (1 trains in this process, as without this option). */
  processes: number;
  /** How the child processes open `train` (they cannot be handed the object). */
  data: TrainDataSource;
  /** Backend of the child processes; default: this process's. */
  backend?: BackendName;
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
  /** Share every batch among child processes (see DataParallelOptions). */
  parallel?: DataParallelOptions;
}

export interface TrainEpochsResult {
  epochsDone: number;
  step: number;
  /** True when all config.epochs are done. */
  complete: boolean;
  history: EpochRecord[];
}

/**
 * Epoch-based training with SGD or AdamW (config.optimizer): epoch e visits every training
 * sample once, in the order epochPermutation(size, seed, e), augmented with cropFlipFor(seed, e,
 * i); the rate follows the config's schedule per step; after each epoch the model is evaluated
 * and a checkpoint (model, optimizer state, step, epoch, RNG state) is written, so a run resumed from it ends with the
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
  const processes = options.parallel?.processes ?? 1;
  const trainer = new SgdTrainer(model, trainerSettings(config));
  let runner: StepRunner | undefined;
  try {
    if (options.resume) await trainer.importState(options.resume.optimizer);
    runner = await startRunner(options, trainer, {
      epochsDone: epoch,
      step,
      learningRate: start?.learningRate ?? config.sgd.learningRate,
      config,
      data,
      model: options.modelInfo ?? {},
      rng: { seed: config.seed, nextEpoch: epoch },
      history,
    });
    const parallel = processes > 1 ? { processes } : {};
    const described = { optimizer: optimizerOf(config) };
    await log(options.logFile, start ? { event: 'resume', epoch, step, ...described, ...parallel } : { event: 'start', config, ...described, data, model: options.modelInfo ?? {}, ...parallel });
    while (epoch < stopAt) {
      const record = await trainOneEpoch(runner, options, epoch, step, batches);
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
            ...(processes > 1 ? { processes } : {}),
          });
        } finally {
          disposeOptimizerState(optimizer);
        }
      }
      await log(options.logFile, { event: 'epoch', ...record });
      options.onEvent?.({ kind: 'epoch', ...record });
    }
  } finally {
    await runner?.close();
    trainer.dispose();
  }
  return { epochsDone: epoch, step, complete: epoch >= config.epochs, history };
}

/** In this process, or over child processes when options.parallel asks for 2 or more. */
async function startRunner(
  options: TrainEpochsOptions,
  trainer: SgdTrainer,
  state: Omit<CheckpointState, 'format' | 'version' | 'optimizer'>,
): Promise<StepRunner> {
  const { parallel, train, model, config } = options;
  if (parallel === undefined || parallel.processes === 1) return localStepRunner(trainer, train, config);
  if (!Number.isInteger(parallel.processes) || parallel.processes < 1) {
    throw new Error(`processes must be a positive integer, got ${parallel.processes}`);
  }
  const group = await ReplicaGroup.start({
    processes: parallel.processes,
    backend: parallel.backend ?? activeBackendName(),
    data: parallel.data,
    expected: { description: train.description, size: train.size },
    model,
    trainer,
    state,
  });
  return {
    step: (epoch, index, learningRate) => group.step(epoch, index, learningRate),
    endEpoch: () => group.synchronize(),
    close: () => group.close(),
  };
}

async function trainOneEpoch(
  runner: StepRunner,
  options: TrainEpochsOptions,
  epoch: number,
  firstStep: number,
  batches: number,
): Promise<EpochRecord> {
  const { config } = options;
  const started = performance.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let learningRate = config.sgd.learningRate;
  for (let index = 0; index < batches; index++) {
    const step = firstStep + index;
    learningRate = learningRateOf(config, batches, step);
    const stepStarted = performance.now();
    const outcome = await runner.step(epoch, index, learningRate);
    lossSum += outcome.loss * outcome.count;
    correct += outcome.correct;
    seen += outcome.count;
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
      stepMilliseconds: performance.now() - stepStarted,
      inputMilliseconds: outcome.inputMilliseconds,
    });
    // Lets signals, timers and I/O in; keeps a long epoch from starving the event loop.
    if (index % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  const trainSeconds = (performance.now() - started) / 1000;
  await runner.endEpoch();
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
    const sums = await evaluateDataset(options.model, options.evaluation, {
      batchSize: config.evalBatchSize,
      ...(config.sgd.output === undefined ? {} : { output: config.sgd.output }),
      afterBatch: (done, total) => options.onEvent?.({ kind: 'evaluating', epoch: epoch + 1, done, total }),
    });
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
  const [trained, given] = [optimizerKindOf(state.config), optimizerKindOf(config)];
  if (trained !== given) throw new Error(`the checkpoint was trained with ${trained}, not ${given}; resume with the optimizer it records`);
  if (JSON.stringify(state.config) !== JSON.stringify(config)) {
    throw new Error('the checkpoint was written with other training settings; resume with the settings it records');
  }
}

async function log(file: string | undefined, entry: Record<string, unknown>): Promise<void> {
  if (file === undefined) return;
  await appendFile(file, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}
