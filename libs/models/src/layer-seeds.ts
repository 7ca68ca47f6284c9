import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { ClassifierOutput } from './output-kind';

/** Hands out a distinct, deterministic seed per initialiser, in construction order. */
export class LayerSeeds {
  private next: number;
  constructor(base: number) {
    this.next = base;
  }
  take(): number {
    return this.next++;
  }
}

/** The batch-norm settings of the torch/keras CIFAR reference models. */
export const BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

export function batchNorm(input: SymbolicTensor, name: string): SymbolicTensor {
  return tf.layers.batchNormalization({ axis: -1, ...BATCH_NORM, name }).apply(input) as SymbolicTensor;
}

export function activation(input: SymbolicTensor, kind: 'relu' | 'relu6', name: string): SymbolicTensor {
  return tf.layers.activation({ activation: kind, name }).apply(input) as SymbolicTensor;
}

/** Conv without bias (the batch norm after it supplies the shift), He-normal initialised. */
export function conv2d(
  input: SymbolicTensor,
  options: { filters: number; kernelSize: number; strides?: number; name: string },
  seeds: LayerSeeds,
): SymbolicTensor {
  return tf.layers
    .conv2d({
      filters: options.filters,
      kernelSize: options.kernelSize,
      strides: options.strides ?? 1,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seeds.take() }),
      name: options.name,
    })
    .apply(input) as SymbolicTensor;
}

/** conv3x3 -> batch norm -> ReLU, named `${prefix}_conv`, `${prefix}_bn`, `${prefix}_relu`. */
export function convBnRelu(
  input: SymbolicTensor,
  filters: number,
  prefix: string,
  seeds: LayerSeeds,
  strides = 1,
): SymbolicTensor {
  const convolved = conv2d(input, { filters, kernelSize: 3, strides, name: `${prefix}_conv` }, seeds);
  return activation(batchNorm(convolved, `${prefix}_bn`), 'relu', `${prefix}_relu`);
}

/** The activation of each output kind's last layer. */
const CLASSIFIER_ACTIVATIONS = { probabilities: 'softmax', logits: 'linear', sigmoid: 'sigmoid' } as const;

/** The output layer every ippro classifier ends with (its name is 'classifier'): softmax by default, linear for logits, or sigmoid. */
export function classifierLayer(input: SymbolicTensor, numClasses: number, seeds: Pick<LayerSeeds, 'take'>, output: ClassifierOutput = 'probabilities'): SymbolicTensor {
  return tf.layers
    .dense({
      units: numClasses,
      activation: CLASSIFIER_ACTIVATIONS[output],
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.take() }),
      name: 'classifier',
    })
    .apply(input) as SymbolicTensor;
}

export function checkPositiveInteger(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer, got ${value}`);
}
