import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { adamwFault } from '@ippro/workflow-core';
import type { AdamWSettings } from '@ippro/workflow-core';
import { buffersInWeightOrder, namedBuffers } from './optimizer-state';
import type { SgdState } from './optimizer-state';

// Declared where the workflows can read them (they check a run's fine-tuning without TensorFlow.js).
export { ADAMW_DEFAULTS, OPTIMIZER_KINDS } from '@ippro/workflow-core';
export type { AdamWSettings, OptimizerKind } from '@ippro/workflow-core';

/** Throws an Error naming the field when AdamW cannot run with these settings. */
export function validateAdamW(settings: AdamWSettings): void {
  const fault = adamwFault(settings);
  if (fault === undefined) return;
  const value: unknown = settings[fault.field];
  throw new Error(`${fault.field} must be ${fault.expected}, got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled weight decay regularization", 2019) as torch.optim.AdamW
 * computes it. At step t (from 1), with gradient g, the current (scheduled) rate lr and weight
 * decay wd:
 *
 *     m <- beta1 m + (1 - beta1) g          v <- beta2 v + (1 - beta2) g^2
 *     w <- w (1 - lr wd)                    (decayed weights only)
 *     w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
 *
 * that is w <- w - lr (m_hat / (sqrt(v_hat) + epsilon) + wd w). The decay is not part of the
 * gradient (so m and v never see it) and scales with the schedule's rate. The bias corrections
 * are computed in double precision from t; the moments start at zero.
 */
export class AdamW {
  private readonly firstMoments: tf.Variable[];
  private readonly secondMoments: tf.Variable[];
  private step = 0;
  /** The rate of the next step. */
  learningRate: number;

  /**
   * @param variables the weights it updates, in the order applyGradients takes their gradients
   * @param decayed which of them weight decay shrinks
   */
  constructor(
    private readonly variables: readonly tf.Variable[],
    private readonly decayed: readonly boolean[],
    private readonly settings: AdamWSettings,
    learningRate: number,
    private readonly weightDecay: number,
  ) {
    validateAdamW(settings);
    if (decayed.length !== variables.length) throw new Error(`${decayed.length} decay flags for ${variables.length} weights`);
    this.learningRate = learningRate;
    const zeros = (variable: tf.Variable) => tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
    this.firstMoments = variables.map(zeros);
    this.secondMoments = variables.map(zeros);
  }

  get iterations(): number {
    return this.step;
  }

  /** One step with `gradients` in the variables' order. */
  applyGradients(gradients: readonly tf.Tensor[]): void {
    if (gradients.length !== this.variables.length) throw new Error(`${gradients.length} gradients for ${this.variables.length} weights`);
    const { beta1, beta2, epsilon } = this.settings;
    const t = this.step + 1;
    const stepSize = this.learningRate / (1 - beta1 ** t);
    const secondCorrection = Math.sqrt(1 - beta2 ** t);
    const shrink = 1 - this.learningRate * this.weightDecay;
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const gradient = gradients[i] as tf.Tensor;
        const firstMoment = this.firstMoments[i] as tf.Variable;
        const secondMoment = this.secondMoments[i] as tf.Variable;
        firstMoment.assign(tf.add(tf.mul(firstMoment, beta1), tf.mul(gradient, 1 - beta1)));
        secondMoment.assign(tf.add(tf.mul(secondMoment, beta2), tf.mul(tf.square(gradient), 1 - beta2)));
        const denominator = tf.add(tf.div(tf.sqrt(secondMoment), secondCorrection), epsilon);
        const start = this.decayed[i] === true && shrink !== 1 ? tf.mul(variable, shrink) : variable;
        variable.assign(tf.sub(start, tf.mul(tf.div(firstMoment, denominator), stepSize)));
      });
    });
    this.step = t;
  }

  /** Copies of the moments, named after `model`'s trainable weights (the variables), and the step count. */
  exportState(model: LayersModel): SgdState {
    return { iterations: this.step, momentum: namedBuffers(model, this.firstMoments), velocity: namedBuffers(model, this.secondMoments) };
  }

  /** Restores an exported state (checked against `model`'s trainable weights by name and shape); the caller keeps the state's tensors. */
  importState(model: LayersModel, state: SgdState): void {
    if (state.velocity === undefined) throw new Error("the optimizer state is SGD's (no second moments), the trainer's optimizer is AdamW");
    if (!Number.isSafeInteger(state.iterations) || state.iterations < 0) throw new Error(`the optimizer state's step count must be a non-negative integer, got ${state.iterations}`);
    const first = buffersInWeightOrder(model, state.momentum, 'momentum');
    const second = buffersInWeightOrder(model, state.velocity, 'velocity');
    first.forEach((tensor, i) => this.firstMoments[i]?.assign(tensor));
    second.forEach((tensor, i) => this.secondMoments[i]?.assign(tensor));
    this.step = state.iterations;
  }

  dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments]);
  }
}
