import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { classificationLoss, lossOptionsOf, perSampleDistillationLoss, perSampleHits, SIGMOID_DISTILLATION_REFUSAL } from '../loss';
import { classifierHead } from '../output-kind';
import type { ClassifierHead, OutputSetting } from '../output-kind';
import { AdamW, validateAdamW } from './adamw';
import type { AdamWSettings } from './adamw';
import type { CosineDecay } from './cosine-decay';
import type { LabeledBatch } from './labeled-batch';
import { buffersInWeightOrder } from './optimizer-state';
import type { SgdState } from './optimizer-state';

export interface SgdSettings {
  learningRate: number;
  /** SGD's momentum; default 0.9. Not with AdamW. */
  momentum?: number;
  /** SGD only. */
  nesterov?: boolean;
  /**
   * Weight decay of the kernels (decayedKernels: not biases, normalisation parameters, position
   * embeddings or class tokens); default 0. SGD: an L2 penalty weightDecay/2 * ||w||^2 in the
   * objective; AdamW: decoupled, w <- w (1 - lr weightDecay) each step.
   */
  weightDecay?: number;
  labelSmoothing?: number;
  /** Absent: the rate stays learningRate. Loops over global steps apply it (decayedLearningRate). */
  cosineDecay?: CosineDecay;
  /** The model's output kind, which picks the loss; default 'auto' (read from the model). */
  output?: OutputSetting;
  /** AdamW instead of SGD with momentum; absent: SGD. */
  optimizer?: AdamWSettings;
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

export interface TrainingProgress {
  step: number;
  samples: number;
  loss: number;
}

/** The optimizer half of a trainer: how gradients (in trainable-weight order) change the weights, and its state. */
interface WeightUpdate {
  setLearningRate(value: number): void;
  applyGradients(gradients: readonly tf.Tensor[]): void;
  exportState(): Promise<SgdState>;
  importState(state: SgdState): Promise<void>;
  dispose(): void;
}

/**
 * Trains a model's trainable weights with SGD with momentum or, when settings.optimizer says so,
 * AdamW. One instance keeps its optimizer state (momentum buffers, moments) across calls, so a
 * run can train epoch after epoch with one trainer.
 */
export class SgdTrainer {
  private readonly update: WeightUpdate;
  private readonly decayed: tf.Variable[];
  /** The L2 penalty of the objective: SGD's weight decay (AdamW decays outside the gradient). */
  private readonly penalty: number;
  /** Explicit, so the optimizer's buffers follow the model's weight order (and no other model's). */
  private readonly trainable: tf.Variable[];
  private readonly head: ClassifierHead;
  /** The teacher read as the student's output kind; absent without distillation. */
  private readonly teacherHead: ClassifierHead | undefined;

  constructor(
    model: LayersModel,
    private readonly settings: SgdSettings,
    private readonly distillation?: Distillation,
  ) {
    if (distillation !== undefined && !(distillation.weight > 0 && distillation.weight <= 1)) {
      throw new Error(`the distillation weight must be in (0, 1], got ${distillation.weight}`);
    }
    validateOptimizerSettings(settings);
    const adamw = settings.optimizer;
    this.head = classifierHead(model, settings.output ?? 'auto');
    if (distillation !== undefined) {
      if (this.head.output === 'sigmoid') throw new Error(SIGMOID_DISTILLATION_REFUSAL);
      this.teacherHead = classifierHead(distillation.teacher, this.head.output);
    }
    this.decayed = decayedKernels(model);
    this.trainable = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
    if (adamw === undefined) {
      this.update = new MomentumUpdate(model, this.trainable, settings);
      this.penalty = settings.weightDecay ?? 0;
    } else {
      const decayed = new Set(this.decayed);
      this.update = adamwUpdate(model, new AdamW(this.trainable, this.trainable.map((variable) => decayed.has(variable)), adamw, settings.learningRate, settings.weightDecay ?? 0));
      this.penalty = 0;
    }
  }

  set learningRate(value: number) {
    this.update.setLearningRate(value);
  }

  /** One step on one batch (batch norm in training mode); returns the batch's loss. */
  step(batch: LabeledBatch): number {
    return this.stepWithMetrics(batch).loss;
  }

  /** One step, also counting the batch's top-1 hits in the training-mode forward pass. */
  stepWithMetrics(batch: LabeledBatch): StepMetrics {
    const { gradients, metrics } = this.gradientsWithMetrics(batch);
    try {
      this.update.applyGradients(gradients);
    } finally {
      tf.dispose(gradients);
    }
    if (!Number.isFinite(metrics.loss)) {
      throw new Error(`training diverged: the loss became ${metrics.loss}`);
    }
    return metrics;
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
    const { value, grads } = tf.variableGrads(() => {
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
    this.update.applyGradients(gradients);
  }

  /** Copies of the optimizer's buffers and the step count; the caller disposes the tensors (disposeOptimizerState). */
  async exportState(): Promise<SgdState> {
    return this.update.exportState();
  }

  /**
   * Restores a state exported from a trainer of the same architecture and optimizer (possibly
   * another process and a model loaded from disk). Every buffer must match a trainable weight by
   * name and shape; a state of the other optimizer is refused.
   */
  async importState(state: SgdState): Promise<void> {
    await this.update.importState(state);
  }

  dispose(): void {
    this.update.dispose();
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
    return withWeightDecay(loss as tf.Scalar, this.decayed, this.penalty);
  }
}

/** SGD with momentum: tfjs' momentum optimizer, its buffers keyed by the model's weight names. */
class MomentumUpdate implements WeightUpdate {
  private readonly optimizer: tf.MomentumOptimizer;

  constructor(
    private readonly model: LayersModel,
    private readonly trainable: readonly tf.Variable[],
    settings: SgdSettings,
  ) {
    this.optimizer = tf.train.momentum(settings.learningRate, settings.momentum ?? 0.9, settings.nesterov ?? false);
  }

  setLearningRate(value: number): void {
    this.optimizer.setLearningRate(value);
  }

  applyGradients(gradients: readonly tf.Tensor[]): void {
    this.optimizer.applyGradients(this.trainable.map((variable, i) => ({ name: variable.name, tensor: gradients[i] as tf.Tensor })));
  }

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

  async importState(state: SgdState): Promise<void> {
    if (state.velocity !== undefined) throw new Error("the optimizer state is AdamW's (it has second moments), the trainer's optimizer is SGD");
    const buffers = state.momentum.length > 0 ? buffersInWeightOrder(this.model, state.momentum, 'momentum') : [];
    const named: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }];
    buffers.forEach((tensor, i) => named.push({ name: `${this.trainable[i]?.name ?? ''}/momentum`, tensor }));
    const replaced = await this.optimizer.getWeights();
    await this.optimizer.setWeights(named);
    named[0]?.tensor.dispose();
    tf.dispose(replaced.map((entry) => entry.tensor));
  }

  dispose(): void {
    disposeMomentumOptimizer(this.optimizer);
  }
}

/** AdamW as a trainer's update, its moments keyed by the model's weight names. */
function adamwUpdate(model: LayersModel, adamw: AdamW): WeightUpdate {
  return {
    setLearningRate: (value) => {
      adamw.learningRate = value;
    },
    applyGradients: (gradients) => adamw.applyGradients(gradients),
    exportState: async () => adamw.exportState(model),
    importState: async (state) => adamw.importState(model, state),
    dispose: () => adamw.dispose(),
  };
}

/** Throws an Error naming the field when AdamW's settings are out of range, or given SGD's momentum or Nesterov. */
export function validateOptimizerSettings(settings: SgdSettings): void {
  if (settings.optimizer === undefined) return;
  validateAdamW(settings.optimizer);
  if (settings.momentum !== undefined || settings.nesterov !== undefined) {
    throw new Error('momentum and nesterov are settings of SGD, not of AdamW (which has beta1 and beta2)');
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

/**
 * The weights weight decay applies to, by SGD's L2 penalty and AdamW's decoupled decay alike: the
 * kernels of Dense, Conv2D, DepthwiseConv2D and the attention projections (weight names ending in
 * `kernel`). Biases, batch- and layer-normalisation gamma and beta, position embeddings and class
 * tokens are not decayed (the usual convention for CNNs and ViTs).
 */
export function decayedKernels(model: LayersModel): tf.Variable[] {
  return model.trainableWeights
    .filter((weight) => /(kernel|depthwise_kernel|pointwise_kernel)$/.test(weight.originalName))
    .map((weight) => weight.read() as tf.Variable);
}
