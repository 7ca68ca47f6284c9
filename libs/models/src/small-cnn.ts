import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { checkPositiveInteger, convBnRelu, LayerSeeds, classifierLayer } from './layer-seeds';
import type { ClassifierOutput } from './output-kind';

export interface SmallCnnOptions {
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
  numClasses?: number;
  /** Base seed; every initialiser derives its own from it. Default 0. */
  seed?: number;
  /** Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  /**
   * Conv widths per stage: one conv3x3-BN-ReLU per entry, a 2x2 max-pool between stages.
   * Default [[32], [48, 64], [96]].
   */
  stages?: readonly (readonly number[])[];
  /** Shorthand for one conv per stage: [4, 8] is stages [[4], [8]]. Ignored when stages is given. */
  widths?: readonly number[];
}

/** The default stages of the small CNN. */
export const SMALL_CNN_STAGES: readonly (readonly number[])[] = [[32], [48, 64], [96]];

/**
 * A small, fast CNN for demos and tests: stages of conv3x3-BN-ReLU (32 | 48, 64 | 96 wide) with
 * a 2x2 max-pool between them (32x32 -> 16x16 -> 8x8), global average pooling and the softmax
 * classifier. 99,562 parameters for 10 classes (99,082 trainable), 15.0M multiply-accumulates
 * per 32x32 image (ResNet-20: 40.8M). Layer names: `block{s}_{conv,bn,relu}` for a stage of one
 * conv, `block{s}_{i}_{conv,bn,relu}` for conv i of a longer stage, `block{s}_pool`,
 * `global_avg_pool`, `classifier`.
 */
export function buildSmallCnn(options: SmallCnnOptions = {}): tf.LayersModel {
  const { numClasses = 10, seed = 0, inputShape = [32, 32, 3] } = options;
  const stages = options.stages ?? options.widths?.map((width) => [width]) ?? SMALL_CNN_STAGES;
  checkPositiveInteger('numClasses', numClasses);
  if (stages.length === 0 || stages.some((widths) => widths.length === 0)) {
    throw new Error('the small CNN needs at least one conv in every stage');
  }
  stages.flat().forEach((width) => checkPositiveInteger('a conv width', width));
  const seeds = new LayerSeeds(seed);
  const input = tf.input({ shape: inputShape, name: 'image' });
  let features: SymbolicTensor = input;
  stages.forEach((widths, stage) => {
    if (stage > 0) {
      features = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${stage}_pool` }).apply(features) as SymbolicTensor;
    }
    widths.forEach((filters, index) => {
      const prefix = widths.length === 1 ? `block${stage + 1}` : `block${stage + 1}_${index + 1}`;
      features = convBnRelu(features, filters, prefix, seeds);
    });
  });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'global_avg_pool' }).apply(features) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: classifierLayer(pooled, numClasses, seeds, options.output), name: 'small_cnn' });
}
