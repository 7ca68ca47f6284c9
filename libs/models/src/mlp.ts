import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { activation, batchNorm, checkPositiveInteger, LayerSeeds, classifierLayer } from './layer-seeds';
import type { ClassifierOutput } from './output-kind';

export interface MlpOptions {
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
  /** The shape of one sample; anything of rank > 1 is flattened first. Default [32, 32, 3]. */
  inputShape?: number[];
  /** Widths of the hidden Dense layers. Default [256, 128]. */
  hiddenUnits?: readonly number[];
  numClasses?: number;
  /** Batch norm after each hidden Dense (which then has no bias). Default true. */
  batchNorm?: boolean;
  /** Base seed; every initialiser derives its own from it. Default 0. */
  seed?: number;
}

export const MLP_HIDDEN_UNITS: readonly number[] = [256, 128];

/**
 * A small multi-layer perceptron: [Flatten] -> (Dense -> BN -> ReLU) per hidden width ->
 * softmax classifier. Layer names `flatten`, `dense{i}`, `dense{i}_bn`, `dense{i}_relu`,
 * `classifier`. For 32x32x3 inputs and the defaults: 822,026 parameters (821,258 trainable).
 */
export function buildMlp(options: MlpOptions = {}): tf.LayersModel {
  const { inputShape = [32, 32, 3], hiddenUnits = MLP_HIDDEN_UNITS, numClasses = 10, seed = 0 } = options;
  const useBatchNorm = options.batchNorm ?? true;
  checkPositiveInteger('numClasses', numClasses);
  hiddenUnits.forEach((units) => checkPositiveInteger('a hidden width', units));
  const seeds = new LayerSeeds(seed);
  const input = tf.input({ shape: inputShape, name: inputShape.length > 1 ? 'image' : 'features' });
  let x: SymbolicTensor = inputShape.length > 1 ? (tf.layers.flatten({ name: 'flatten' }).apply(input) as SymbolicTensor) : input;
  hiddenUnits.forEach((units, index) => {
    const name = `dense${index + 1}`;
    x = tf.layers
      .dense({ units, useBias: !useBatchNorm, kernelInitializer: tf.initializers.heNormal({ seed: seeds.take() }), name })
      .apply(x) as SymbolicTensor;
    if (useBatchNorm) x = batchNorm(x, `${name}_bn`);
    x = activation(x, 'relu', `${name}_relu`);
  });
  return tf.model({ inputs: input, outputs: classifierLayer(x, numClasses, seeds, options.output), name: 'mlp' });
}
