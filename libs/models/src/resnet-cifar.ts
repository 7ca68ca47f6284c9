import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { classifierLayer } from './layer-seeds';
import type { ClassifierOutput } from './output-kind';

/** Depths of the CIFAR ResNet family (He et al. 2016, section 4.2): 6n + 2. */
export type ResNetCifarDepth = 20 | 32 | 56;

export interface ResNetCifarOptions {
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
  depth: ResNetCifarDepth;
  numClasses?: number;
  /** Base seed; every layer derives its own seed from it so builds are reproducible. */
  seed?: number;
  inputShape?: [number, number, number];
}

const STAGE_WIDTHS = [16, 32, 64] as const;
// Matches the torch/keras reference implementations of CIFAR ResNets.
const BATCH_NORM_MOMENTUM = 0.9;
const BATCH_NORM_EPSILON = 1e-5;

/** Hands out a distinct, deterministic seed per layer in construction order. */
class SeedSequence {
  private next: number;
  constructor(base: number) {
    this.next = base;
  }
  take(): number {
    return this.next++;
  }
}

function conv(
  input: SymbolicTensor,
  filters: number,
  kernelSize: number,
  stride: number,
  name: string,
  seeds: SeedSequence,
): SymbolicTensor {
  return tf.layers
    .conv2d({
      filters,
      kernelSize,
      strides: stride,
      padding: 'same',
      // The following batch norm supplies the shift, so a bias would be redundant.
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seeds.take() }),
      name,
    })
    .apply(input) as SymbolicTensor;
}

function batchNorm(input: SymbolicTensor, name: string): SymbolicTensor {
  return tf.layers
    .batchNormalization({ axis: -1, momentum: BATCH_NORM_MOMENTUM, epsilon: BATCH_NORM_EPSILON, name })
    .apply(input) as SymbolicTensor;
}

function relu(input: SymbolicTensor, name: string): SymbolicTensor {
  return tf.layers.activation({ activation: 'relu', name }).apply(input) as SymbolicTensor;
}

function convBnRelu(
  input: SymbolicTensor,
  filters: number,
  stride: number,
  prefix: string,
  seeds: SeedSequence,
): SymbolicTensor {
  const convolved = conv(input, filters, 3, stride, `${prefix}_conv`, seeds);
  return relu(batchNorm(convolved, `${prefix}_bn`), `${prefix}_relu`);
}

/** Identity when shapes agree, otherwise the 1x1 strided projection (option B of the paper). */
function shortcut(
  input: SymbolicTensor,
  filters: number,
  stride: number,
  prefix: string,
  seeds: SeedSequence,
): SymbolicTensor {
  const inputChannels = input.shape[input.shape.length - 1];
  if (stride === 1 && inputChannels === filters) {
    return input;
  }
  const projected = conv(input, filters, 1, stride, `${prefix}_shortcut_conv`, seeds);
  return batchNorm(projected, `${prefix}_shortcut_bn`);
}

function basicBlock(
  input: SymbolicTensor,
  filters: number,
  stride: number,
  prefix: string,
  seeds: SeedSequence,
): SymbolicTensor {
  const first = convBnRelu(input, filters, stride, `${prefix}_1`, seeds);
  const second = batchNorm(conv(first, filters, 3, 1, `${prefix}_2_conv`, seeds), `${prefix}_2_bn`);
  const residual = shortcut(input, filters, stride, prefix, seeds);
  const sum = tf.layers.add({ name: `${prefix}_add` }).apply([second, residual]) as SymbolicTensor;
  return relu(sum, `${prefix}_out`);
}

function blocksPerStage(depth: number): number {
  if ((depth - 2) % 6 !== 0 || depth < 8) {
    throw new Error(`CIFAR ResNet depth must be 6n+2, got ${depth}`);
  }
  return (depth - 2) / 6;
}

/**
 * Builds the CIFAR-10 ResNet of He et al. (2016) as a plain, serialisable functional
 * LayersModel: conv3x3 stem, three stages of basic blocks (16/32/64 filters, the first
 * block of stages 2 and 3 downsamples), global average pooling and a softmax classifier.
 */
export function buildResNetCifar(options: ResNetCifarOptions): tf.LayersModel {
  const { depth, numClasses = 10, seed = 0, inputShape = [32, 32, 3] } = options;
  const blocks = blocksPerStage(depth);
  const seeds = new SeedSequence(seed);
  const input = tf.input({ shape: inputShape, name: 'image' });
  let features = convBnRelu(input, STAGE_WIDTHS[0], 1, 'stem', seeds);
  STAGE_WIDTHS.forEach((filters, stageIndex) => {
    for (let blockIndex = 0; blockIndex < blocks; blockIndex++) {
      const stride = stageIndex > 0 && blockIndex === 0 ? 2 : 1;
      const prefix = `stage${stageIndex + 1}_block${blockIndex + 1}`;
      features = basicBlock(features, filters, stride, prefix, seeds);
    }
  });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'global_avg_pool' }).apply(features) as SymbolicTensor;
  const outputs = classifierLayer(pooled, numClasses, seeds, options.output);
  return tf.model({ inputs: input, outputs, name: `resnet${depth}_cifar` });
}
