import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { activation, batchNorm, conv2d, LayerSeeds, classifierLayer, checkPositiveInteger } from './layer-seeds';
import type { ClassifierOutput } from './output-kind';

export interface MobileNetV2CifarOptions {
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
  /** Scales every width (alpha in the paper), rounded to a multiple of 8. Default 1. */
  widthMultiplier?: number;
  numClasses?: number;
  /** Base seed; every initialiser derives its own from it. Default 0. */
  seed?: number;
  /** Default [32, 32, 3]. */
  inputShape?: [number, number, number];
}

/**
 * Inverted-residual stages (expansion t, output channels c, blocks n, first stride s) of
 * Sandler et al. (2018), table 2, with the CIFAR adaptation: the stem and the second stage use
 * stride 1 instead of 2, so 32x32 inputs are downsampled three times (to 4x4), not five.
 */
const STAGES: readonly { t: number; c: number; n: number; s: number }[] = [
  { t: 1, c: 16, n: 1, s: 1 },
  { t: 6, c: 24, n: 2, s: 1 },
  { t: 6, c: 32, n: 3, s: 2 },
  { t: 6, c: 64, n: 4, s: 2 },
  { t: 6, c: 96, n: 3, s: 1 },
  { t: 6, c: 160, n: 3, s: 2 },
  { t: 6, c: 320, n: 1, s: 1 },
];
const STEM_CHANNELS = 32;
const HEAD_CHANNELS = 1280;

/** The reference implementation's rounding: nearest multiple of 8, never below 90% of v. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

function depthwise(input: SymbolicTensor, strides: number, name: string, seeds: LayerSeeds): SymbolicTensor {
  return tf.layers
    .depthwiseConv2d({
      kernelSize: 3,
      strides,
      padding: 'same',
      depthMultiplier: 1,
      useBias: false,
      depthwiseInitializer: tf.initializers.heNormal({ seed: seeds.take() }),
      name,
    })
    .apply(input) as SymbolicTensor;
}

/**
 * expand 1x1 (skipped when t = 1) -> BN -> ReLU6 -> depthwise 3x3 -> BN -> ReLU6 -> project
 * 1x1 -> BN (linear bottleneck: no activation); plus the input when stride 1 keeps the shape.
 */
function invertedResidual(
  input: SymbolicTensor,
  expansion: number,
  outChannels: number,
  strides: number,
  prefix: string,
  seeds: LayerSeeds,
): SymbolicTensor {
  const inChannels = input.shape[input.shape.length - 1] as number;
  let x = input;
  if (expansion !== 1) {
    x = conv2d(x, { filters: inChannels * expansion, kernelSize: 1, name: `${prefix}_expand_conv` }, seeds);
    x = activation(batchNorm(x, `${prefix}_expand_bn`), 'relu6', `${prefix}_expand_relu`);
  }
  x = depthwise(x, strides, `${prefix}_dw_conv`, seeds);
  x = activation(batchNorm(x, `${prefix}_dw_bn`), 'relu6', `${prefix}_dw_relu`);
  x = conv2d(x, { filters: outChannels, kernelSize: 1, name: `${prefix}_project_conv` }, seeds);
  x = batchNorm(x, `${prefix}_project_bn`);
  if (strides === 1 && inChannels === outChannels) {
    x = tf.layers.add({ name: `${prefix}_add` }).apply([input, x]) as SymbolicTensor;
  }
  return x;
}

/**
 * MobileNetV2 for CIFAR as a plain functional LayersModel: conv3x3 stem, 17 inverted-residual
 * blocks named `stage{s}_block{b}_*`, a 1x1 head conv (1280 wide, or more for alpha > 1), global
 * average pooling and the softmax classifier. Width multiplier 1, 10 classes: 2,270,794
 * parameters (2,236,682 trainable).
 */
export function buildMobileNetV2Cifar(options: MobileNetV2CifarOptions = {}): tf.LayersModel {
  const { widthMultiplier = 1, numClasses = 10, seed = 0, inputShape = [32, 32, 3] } = options;
  if (!(widthMultiplier > 0) || !Number.isFinite(widthMultiplier)) {
    throw new Error(`widthMultiplier must be a positive number, got ${widthMultiplier}`);
  }
  checkPositiveInteger('numClasses', numClasses);
  const seeds = new LayerSeeds(seed);
  const input = tf.input({ shape: inputShape, name: 'image' });
  const stem = conv2d(input, { filters: makeDivisible(STEM_CHANNELS * widthMultiplier), kernelSize: 3, name: 'stem_conv' }, seeds);
  let x = activation(batchNorm(stem, 'stem_bn'), 'relu6', 'stem_relu');
  STAGES.forEach((stage, stageIndex) => {
    const outChannels = makeDivisible(stage.c * widthMultiplier);
    for (let block = 0; block < stage.n; block++) {
      const prefix = `stage${stageIndex + 1}_block${block + 1}`;
      x = invertedResidual(x, stage.t, outChannels, block === 0 ? stage.s : 1, prefix, seeds);
    }
  });
  const headChannels = widthMultiplier > 1 ? makeDivisible(HEAD_CHANNELS * widthMultiplier) : HEAD_CHANNELS;
  x = conv2d(x, { filters: headChannels, kernelSize: 1, name: 'head_conv' }, seeds);
  x = activation(batchNorm(x, 'head_bn'), 'relu6', 'head_relu');
  const pooled = tf.layers.globalAveragePooling2d({ name: 'global_avg_pool' }).apply(x) as SymbolicTensor;
  const suffix = widthMultiplier === 1 ? '' : `_x${widthMultiplier}`;
  return tf.model({ inputs: input, outputs: classifierLayer(pooled, numClasses, seeds, options.output), name: `mobilenetv2${suffix}_cifar`.replace(/\./g, '_') });
}
