import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { batchAt } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { disposeOptimizerState } from '@ippro/models';
import type { SgdTrainer } from '@ippro/models';
import type { TrainConfig } from '../train-config';
import { batchPartOf } from './batch-split';
import { flattenTensors, setStatistics, statisticsOf, unflattenTensors } from './flat-tensors';
import type { PartResult, ReplicaState } from './messages';

/** The averaged result of one step, as every replica applies it. */
export interface AveragedUpdate {
  learningRate: number;
  gradients: Float32Array;
  statistics: Float32Array;
}

/**
 * One process's share of data-parallel training: the gradients of its part of each batch, and
 * the averaged update applied to its copy of the model and optimizer.
 */
export class Replica {
  constructor(
    private readonly model: LayersModel,
    private readonly trainer: SgdTrainer,
    private readonly train: LabeledDataset,
    private readonly config: Pick<TrainConfig, 'batchSize' | 'seed' | 'augment'>,
    private readonly rank: number,
    private readonly processes: number,
  ) {}

  /** Gradients and metrics of this replica's part of batch `index` of `epoch`. */
  computePart(epoch: number, index: number): PartResult {
    const { batchSize, seed, augment } = this.config;
    const size = Math.min(batchSize, this.train.size - index * batchSize);
    const part = batchPartOf(size, this.rank, this.processes);
    if (part.end === part.start) {
      return { loss: 0, correct: 0, count: 0, inputMilliseconds: 0, gradients: new Float32Array(0), statistics: statisticsOf(this.model) };
    }
    const started = performance.now();
    const batch = batchAt(this.train, { batchSize, index, epoch, seed, shuffle: true, augment, part });
    const inputMilliseconds = performance.now() - started;
    try {
      const { gradients, metrics } = this.trainer.gradientsWithMetrics(batch);
      try {
        return { ...metrics, inputMilliseconds, gradients: flattenTensors(gradients), statistics: statisticsOf(this.model) };
      } finally {
        tf.dispose(gradients);
      }
    } finally {
      batch.dispose();
    }
  }

  apply(update: AveragedUpdate): void {
    applyUpdate(this.model, this.trainer, update);
  }

  async state(): Promise<ReplicaState> {
    const optimizer = await this.trainer.exportState();
    try {
      return {
        weights: flattenTensors(this.model.weights.map((weight) => weight.read())),
        momentum: flattenTensors(optimizer.momentum.map((entry) => entry.tensor)),
        ...(optimizer.velocity === undefined ? {} : { velocity: flattenTensors(optimizer.velocity.map((entry) => entry.tensor)) }),
        iterations: optimizer.iterations,
      };
    } finally {
      disposeOptimizerState(optimizer);
    }
  }
}

/** Makes `model` and `trainer` hold a replica's state (weights, optimizer buffers, step count). */
export async function adoptState(model: LayersModel, trainer: SgdTrainer, state: ReplicaState): Promise<void> {
  const weights = unflattenTensors(state.weights, model.weights.map((weight) => weight.read().shape));
  model.weights.forEach((weight, i) => weight.write(weights[i] as tf.Tensor));
  tf.dispose(weights);
  const trainable = model.trainableWeights;
  const buffers = (flat: Float32Array) =>
    flat.length === 0 ? [] : unflattenTensors(flat, trainable.map((weight) => weight.read().shape)).map((tensor, i) => ({ name: trainable[i]?.originalName ?? '', tensor }));
  const optimizer = { iterations: state.iterations, momentum: buffers(state.momentum), ...(state.velocity === undefined ? {} : { velocity: buffers(state.velocity) }) };
  try {
    await trainer.importState(optimizer);
  } finally {
    disposeOptimizerState(optimizer);
  }
}

/** Sets the averaged statistics and takes the optimizer's step with the averaged gradients. */
export function applyUpdate(model: LayersModel, trainer: SgdTrainer, update: AveragedUpdate): void {
  trainer.learningRate = update.learningRate;
  setStatistics(model, update.statistics);
  const gradients = unflattenTensors(update.gradients, model.trainableWeights.map((weight) => weight.read().shape));
  try {
    trainer.applyGradients(gradients);
  } finally {
    tf.dispose(gradients);
  }
}
