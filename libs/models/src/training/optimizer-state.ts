import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** A buffer of the optimizer, named after the model weight it belongs to (e.g. `stem_conv/kernel`). */
export interface OptimizerBuffer {
  name: string;
  tensor: tf.Tensor;
}

/**
 * The optimizer's state, keyed by the model's weight names (e.g. `stem_conv/kernel`), so it
 * restores onto the same architecture loaded from disk, whatever its variables are called.
 */
export interface SgdState {
  /** Steps taken so far (SGD: tfjs' optimizer iteration counter; AdamW: t of the bias correction). */
  iterations: number;
  /**
   * SGD's momentum buffers, or AdamW's first moments (m), in the model's trainable-weight order;
   * empty before SGD's first step.
   */
  momentum: OptimizerBuffer[];
  /** AdamW's second moments (v), in the same order; absent for SGD (Keras calls m and v momentum and velocity). */
  velocity?: OptimizerBuffer[];
}

/**
 * The buffers of one kind (`what`: momentum or velocity) in the model's trainable-weight order,
 * each checked against its weight by name and shape. Errors name the weight.
 */
export function buffersInWeightOrder(model: LayersModel, buffers: readonly OptimizerBuffer[], what: string): tf.Tensor[] {
  const byName = new Map(buffers.map((entry) => [entry.name, entry.tensor]));
  const weights = model.trainableWeights;
  const ordered = weights.map((weight) => {
    const tensor = byName.get(weight.originalName);
    if (tensor === undefined) throw new Error(`the optimizer state has no ${what} for weight ${weight.originalName}`);
    const shape = weight.read().shape;
    if (!tf.util.arraysEqual(tensor.shape, shape)) {
      throw new Error(`the optimizer state's ${what} for ${weight.originalName} has shape [${tensor.shape}], the weight [${shape}]`);
    }
    return tensor;
  });
  if (byName.size !== weights.length) {
    throw new Error(`the optimizer state has ${byName.size} ${what} buffers for a model with ${weights.length} trainable weights`);
  }
  return ordered;
}

/** Copies of `tensors` named after the model's trainable weights, in order. */
export function namedBuffers(model: LayersModel, tensors: readonly tf.Tensor[]): OptimizerBuffer[] {
  return model.trainableWeights.map((weight, i) => ({ name: weight.originalName, tensor: tf.clone(tensors[i] as tf.Tensor) }));
}

/** Frees every tensor of a state (exported copies, or tensors decoded from a checkpoint). */
export function disposeOptimizerState(state: SgdState): void {
  tf.dispose([...state.momentum, ...(state.velocity ?? [])].map((entry) => entry.tensor));
}
