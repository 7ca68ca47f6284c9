import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { activation, batchNorm, checkPositiveInteger, convBnRelu, LayerSeeds, classifierLayer } from './layer-seeds';
import type { ClassifierOutput } from './output-kind';

export type VggDepth = 11 | 13 | 16 | 19;

export interface VggCifarOptions {
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
  /** Default 16. */
  depth?: VggDepth;
  numClasses?: number;
  /** Base seed; every initialiser derives its own from it. Default 0. */
  seed?: number;
  /** Default [32, 32, 3]; height and width must be divisible by 32 (five max-pools). */
  inputShape?: [number, number, number];
  /** Width of the hidden classifier layer; default 512. */
  hiddenUnits?: number;
}

/** Conv widths per stage ('M' = 2x2 max-pool), as in Simonyan & Zisserman (2015), table 1. */
const VGG_STAGES: Record<VggDepth, readonly number[][]> = {
  11: [[64], [128], [256, 256], [512, 512], [512, 512]],
  13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
  16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
  19: [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
};

/**
 * VGG with batch norm for CIFAR, the variant most pruning papers use (e.g. HRank's VGG-16):
 * stages of conv3x3-BN-ReLU (no conv bias, the batch norm supplies it) each followed by a 2x2
 * max-pool, so 32x32 becomes 1x1x512; then Flatten, a hidden Dense(512, no bias)-BN-ReLU and the
 * softmax classifier. Layer names: `block{s}_conv{i}_{conv,bn,relu}`, `block{s}_pool`, `flatten`,
 * `fc1`, `fc1_bn`, `fc1_relu`, `classifier`.
 *
 * VGG-16-BN, 10 classes: 14,996,682 parameters (14,710,464 conv kernels; 13 conv batch norms
 * over 4,224 channels x 4 = 16,896; fc1 512x512 = 262,144; fc1_bn 2,048; classifier 5,130), of
 * which 14,987,210 trainable (the moving means and variances, 2 x 4,736, are not); 313.5M
 * multiply-accumulates per 32x32 image.
 */
export function buildVggCifar(options: VggCifarOptions = {}): tf.LayersModel {
  const { depth = 16, numClasses = 10, seed = 0, inputShape = [32, 32, 3], hiddenUnits = 512 } = options;
  const stages = VGG_STAGES[depth];
  if (!stages) throw new Error(`VGG depth must be one of 11, 13, 16, 19, got ${depth}`);
  checkPositiveInteger('numClasses', numClasses);
  checkPositiveInteger('hiddenUnits', hiddenUnits);
  if (inputShape[0] % 32 !== 0 || inputShape[1] % 32 !== 0) {
    throw new Error(`VGG needs height and width divisible by 32, got ${inputShape[0]}x${inputShape[1]}`);
  }
  const seeds = new LayerSeeds(seed);
  const input = tf.input({ shape: inputShape, name: 'image' });
  let features: SymbolicTensor = input;
  stages.forEach((widths, stageIndex) => {
    widths.forEach((filters, convIndex) => {
      features = convBnRelu(features, filters, `block${stageIndex + 1}_conv${convIndex + 1}`, seeds);
    });
    features = tf.layers
      .maxPooling2d({ poolSize: 2, strides: 2, name: `block${stageIndex + 1}_pool` })
      .apply(features) as SymbolicTensor;
  });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(features) as SymbolicTensor;
  const hidden = tf.layers
    .dense({
      units: hiddenUnits,
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seeds.take() }),
      name: 'fc1',
    })
    .apply(flat) as SymbolicTensor;
  const activated = activation(batchNorm(hidden, 'fc1_bn'), 'relu', 'fc1_relu');
  const probabilities = classifierLayer(activated, numClasses, seeds, options.output);
  return tf.model({ inputs: input, outputs: probabilities, name: `vgg${depth}_bn_cifar` });
}
