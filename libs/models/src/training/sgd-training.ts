import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { classificationLoss, lossOptionsOf, perSampleDistillationLoss, perSampleHits, SIGMOID_DISTILLATION_REFUSAL } from '../loss';
import { classifierHead } from '../output-kind';
import type { ClassifierHead, OutputSetting } from '../output-kind';
import type { CosineDecay } from './cosine-decay';
import type { LabeledBatch } from './labeled-batch';

export interface SgdSettings {
  learningRate: number;
  /** Default 0.9. */
  momentum?: number;
  nesterov?: boolean;
  /** L2 penalty on kernels (not biases or batch-norm parameters); default 0. */
  weightDecay?: number;
  labelSmoothing?: number;
  /** Absent: the rate stays learningRate. Loops over global steps apply it (decayedLearningRate). */
  cosineDecay?: CosineDecay;
  /** The model's output kind, which picks the loss; default 'auto' (read from the model). */
  output?: OutputSetting;
}

/**
 * Knowledge distillation from a teacher model: the objective becomes
 * (1 - weight) * cross-entropy + weight * mean of perSampleDistillationLoss at `temperature`.
 * The teacher sees each training batch as the student does (augmented alike), in inference mode,
 * and is read as the student's output kind: logits as they are, probabilities through their log;
 * a sigmoid student is refused (SIGMOID_DISTILLATION_REFUSAL).
 */
export interface Distillation {
  teacher: LayersModel;
  /** In (0, 1]. */
  weight: number;
  temperature: number;
}

/** One step's result: the batch's mean loss and its hits (top-1, or exact match for a sigmoid; from the same forward pass). */
export interface StepMetrics {
  loss: number;
  correct: number;
  count: number;
}

/**
 * The optimizer's state, keyed by the model's weight names (e.g. `stem_conv/kernel`), so it
 * restores onto the same architecture loaded from disk, whatever its variables are called.
 */
export interface SgdState {
  /** Steps taken so far (tfjs' optimizer iteration counter). */
  iterations: number;
  /** Momentum buffers in the model's trainable-weight order; empty before the first step. */
  momentum: { name: string; tensor: tf.Tensor }[];
}

export interface TrainingProgress {
  step: number;
  samples: number;
  loss: number;
}

/**
 * SGD with momentum over a model's trainable weights. One instance keeps its momentum
 * buffers across calls, so a run can train epoch after epoch with one trainer.
 */
export class SgdTrainer {
  private readonly optimizer: tf.MomentumOptimizer;
  private readonly decayed: tf.Variable[];
  /** Explicit, so the momentum buffers follow the model's weight order (and no other model's). */
  private readonly trainable: tf.Variable[];
  private readonly head: ClassifierHead;
  /** The teacher read as the student's output kind; absent without distillation. */
  private readonly teacherHead: ClassifierHead | undefined;

  constructor(
    private readonly model: LayersModel,
    private readonly settings: SgdSettings,
    private readonly distillation?: Distillation,
  ) {
    if (distillation !== undefined && !(distillation.weight > 0 && distillation.weight <= 1)) {
      throw new Error(`the distillation weight must be in (0, 1], got ${distillation.weight}`);
    }
    this.optimizer = tf.train.momentum(
      settings.learningRate,
      settings.momentum ?? 0.9,
      settings.nesterov ?? false,
    );
    this.head = classifierHead(model, settings.output ?? 'auto');
    if (distillation !== undefined) {
      if (this.head.output === 'sigmoid') throw new Error(SIGMOID_DISTILLATION_REFUSAL);
      this.teacherHead = classifierHead(distillation.teacher, this.head.output);
    }
    this.decayed = decayedKernels(model);
    this.trainable = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  }

  set learningRate(value: number) {
    this.optimizer.setLearningRate(value);
  }

  /** One step on one batch (batch norm in training mode); returns the batch's loss. */
  step(batch: LabeledBatch): number {
    return this.stepWithMetrics(batch).loss;
  }

  /** One step, also counting the batch's top-1 hits in the training-mode forward pass. */
  stepWithMetrics(batch: LabeledBatch): StepMetrics {
    const kept: { hits?: tf.Tensor } = {};
    const teacherOutputs = this.teacherOutputs(batch);
    const loss = this.optimizer.minimize(
      () => {
        const outputs = this.head.forward(batch.x, true);
        kept.hits = tf.keep(tf.sum(perSampleHits(outputs, batch.y, lossOptionsOf(this.head))));
        return this.objective(batch, outputs, teacherOutputs);
      },
      true,
      this.trainable,
    );
    teacherOutputs?.dispose();
    const correct = kept.hits?.dataSync()[0] ?? 0;
    kept.hits?.dispose();
    if (loss === null) throw new Error('the optimizer returned no loss');
    const value = loss.dataSync()[0] ?? Number.NaN;
    loss.dispose();
    if (!Number.isFinite(value)) {
      throw new Error(`training diverged: the loss became ${value}`);
    }
    return { loss: value, correct, count: batch.x.shape[0] ?? 0 };
  }

  /**
   * The objective's gradients on one batch, in trainable-weight order, and the batch's metrics,
   * without updating the weights (batch-norm moving statistics do move, as in a step). With
   * applyGradients it is step() in two halves, so that gradients of several batch parts can be
   * combined in between; the caller disposes the gradients.
   */
  gradientsWithMetrics(batch: LabeledBatch): { gradients: tf.Tensor[]; metrics: StepMetrics } {
    const kept: { hits?: tf.Tensor } = {};
    const teacherOutputs = this.teacherOutputs(batch);
    const { value, grads } = this.optimizer.computeGradients(() => {
      const outputs = this.head.forward(batch.x, true);
      kept.hits = tf.keep(tf.sum(perSampleHits(outputs, batch.y, lossOptionsOf(this.head))));
      return this.objective(batch, outputs, teacherOutputs);
    }, this.trainable);
    teacherOutputs?.dispose();
    const gradients = this.trainable.map((variable) => grads[variable.name] as tf.Tensor);
    const correct = kept.hits?.dataSync()[0] ?? 0;
    kept.hits?.dispose();
    const loss = value.dataSync()[0] ?? Number.NaN;
    value.dispose();
    return { gradients, metrics: { loss, correct, count: batch.x.shape[0] ?? 0 } };
  }

  /** Applies gradients in trainable-weight order (as gradientsWithMetrics returns them), at the current rate. */
  applyGradients(gradients: readonly tf.Tensor[]): void {
    if (gradients.length !== this.trainable.length) {
      throw new Error(`${gradients.length} gradients for ${this.trainable.length} trainable weights`);
    }
    this.optimizer.applyGradients(this.trainable.map((variable, i) => ({ name: variable.name, tensor: gradients[i] as tf.Tensor })));
  }

  /** Copies of the momentum buffers and the step count; the caller disposes the tensors. */
  async exportState(): Promise<SgdState> {
    const [iterations, ...buffers] = await this.optimizer.getWeights();
    const byVariable = new Map(buffers.map((buffer) => [buffer.name.replace(/\/momentum$/, ''), buffer.tensor]));
    const momentum = this.model.trainableWeights.flatMap((weight, i) => {
      const buffer = byVariable.get(this.trainable[i]?.name ?? '');
      return buffer === undefined ? [] : [{ name: weight.originalName, tensor: tf.clone(buffer) }];
    });
    if (momentum.length !== buffers.length) {
      throw new Error(`the optimizer has ${buffers.length} momentum buffers, but ${momentum.length} match the model's weights`);
    }
    const count = (await iterations?.tensor.data())?.[0] ?? 0;
    iterations?.tensor.dispose();
    return { iterations: count, momentum };
  }

  /**
   * Restores a state exported from a trainer of the same architecture (possibly another process
   * and a model loaded from disk). Every buffer must match a trainable weight by name and shape.
   */
  async importState(state: SgdState): Promise<void> {
    const byName = new Map(state.momentum.map((entry) => [entry.name, entry.tensor]));
    const weights = this.model.trainableWeights;
    if (state.momentum.length > 0) {
      for (const weight of weights) {
        const tensor = byName.get(weight.originalName);
        if (tensor === undefined) throw new Error(`the optimizer state has no momentum for weight ${weight.originalName}`);
        const shape = weight.read().shape;
        if (!tf.util.arraysEqual(tensor.shape, shape)) {
          throw new Error(`the optimizer state's momentum for ${weight.originalName} has shape [${tensor.shape}], the weight [${shape}]`);
        }
      }
      if (byName.size !== weights.length) {
        throw new Error(`the optimizer state has ${byName.size} momentum buffers for a model with ${weights.length} trainable weights`);
      }
    }
    const named: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }];
    if (state.momentum.length > 0) {
      weights.forEach((weight, i) => {
        named.push({ name: `${this.trainable[i]?.name ?? ''}/momentum`, tensor: byName.get(weight.originalName) as tf.Tensor });
      });
    }
    const replaced = await this.optimizer.getWeights();
    await this.optimizer.setWeights(named);
    named[0]?.tensor.dispose();
    tf.dispose(replaced.map((entry) => entry.tensor));
  }

  dispose(): void {
    disposeMomentumOptimizer(this.optimizer);
  }

  /** The teacher's outputs on the batch (of the student's kind), outside the gradient tape; none without distillation. */
  private teacherOutputs(batch: LabeledBatch): tf.Tensor | undefined {
    const teacher = this.teacherHead;
    return teacher === undefined ? undefined : tf.tidy(() => teacher.forward(batch.x, false));
  }

  private objective(batch: LabeledBatch, outputs: tf.Tensor, teacherOutputs: tf.Tensor | undefined): tf.Scalar {
    const crossEntropy = classificationLoss(outputs, batch.y, lossOptionsOf(this.head, this.settings.labelSmoothing ?? 0));
    const distillation = this.distillation;
    const loss =
      distillation === undefined || teacherOutputs === undefined
        ? crossEntropy
        : tf.add(
            tf.mul(crossEntropy, 1 - distillation.weight),
            tf.mul(tf.mean(perSampleDistillationLoss(outputs, teacherOutputs, distillation.temperature, this.head.output)), distillation.weight),
          );
    return withWeightDecay(loss as tf.Scalar, this.decayed, this.settings.weightDecay ?? 0);
  }
}

/** Frees everything a momentum optimizer holds (its momentum buffers and its learning-rate scalar). */
export function disposeMomentumOptimizer(optimizer: tf.MomentumOptimizer): void {
  optimizer.dispose();
  // tfjs 4.22: MomentumOptimizer.dispose() skips SGDOptimizer's learning-rate scalar `c`.
  (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
}

/**
 * The training objective: the loss plus weightDecay/2 * the sum of squares of the decayed
 * kernels (gradient weightDecay * kernel). Must run inside a gradient scope.
 */
export function withWeightDecay(loss: tf.Scalar, decayed: readonly tf.Variable[], weightDecay: number): tf.Scalar {
  if (weightDecay === 0 || decayed.length === 0) return loss;
  const squares = decayed.map((weight) => tf.sum(tf.square(weight)));
  return tf.add(loss, tf.mul(tf.addN(squares), weightDecay / 2));
}

/** Kernels are decayed; biases and batch-norm parameters are not (the usual convention). */
export function decayedKernels(model: LayersModel): tf.Variable[] {
  return model.trainableWeights
    .filter((weight) => /(kernel|depthwise_kernel|pointwise_kernel)$/.test(weight.originalName))
    .map((weight) => weight.read() as tf.Variable);
}
