import * as tf from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ClassToken, layerNormalization, MultiHeadAttention, PositionEmbedding, TakeClassToken } from '@ippro/layers';
import { checkPositiveInteger, classifierLayer, LayerSeeds } from './layer-seeds';
import type { ClassifierOutput } from './output-kind';

/** How the classifier reads the tokens: the class token, or the mean of the patch tokens. */
export type VitPooling = 'class-token' | 'average';
export const VIT_POOLINGS: readonly VitPooling[] = ['class-token', 'average'];

export interface VitOptions {
  /** The classifier's output kind: softmax probabilities (default), logits or sigmoid. */
  output?: ClassifierOutput;
  numClasses?: number;
  /** Base seed; every initialiser derives its own from it. Default 0. */
  seed?: number;
  /** Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  /** Side of the square patches; must divide the image. Default 4 (64 tokens of 32x32). */
  patchSize?: number;
  /** Width of the residual stream. Default 128. */
  dModel?: number;
  /** Transformer blocks. Default 6. */
  depth?: number;
  /** Heads per attention; dModel / numHeads is each head's key size. Default 4. */
  numHeads?: number;
  /** Hidden width of each block's MLP. Default 256. */
  mlpDim?: number;
  /** Default 'average'. */
  pooling?: VitPooling;
  /** Dropout on the attention probabilities and after each MLP layer. Default 0. */
  dropout?: number;
}

/** The epsilon of every LayerNormalization in the ViT. */
export const VIT_LAYER_NORM_EPSILON = 1e-6;

/** What buildVit builds when an option is left out (and so what `ippro train --arch vit` trains). */
export const VIT_DEFAULTS: Readonly<Required<VitOptions>> = Object.freeze<Required<VitOptions>>({
  numClasses: 10,
  seed: 0,
  inputShape: [32, 32, 3],
  patchSize: 4,
  dModel: 128,
  depth: 6,
  numHeads: 4,
  mlpDim: 256,
  pooling: 'average',
  dropout: 0,
  output: 'probabilities',
});

function apply(layer: tf.layers.Layer, input: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
  return layer.apply(input) as SymbolicTensor;
}

function dense(input: SymbolicTensor, units: number, name: string, seeds: LayerSeeds, activation?: 'gelu'): SymbolicTensor {
  const kernelInitializer = tf.initializers.glorotUniform({ seed: seeds.take() });
  return apply(tf.layers.dense({ units, name, kernelInitializer, ...(activation ? { activation } : {}) }), input);
}

function dropout(input: SymbolicTensor, rate: number, name: string): SymbolicTensor {
  return rate > 0 ? apply(tf.layers.dropout({ rate, name }), input) : input;
}

/** x -> LN -> MHA -> Add -> LN -> Dense(gelu) -> Dense -> Add. */
function encoderBlock(x: SymbolicTensor, options: Required<VitOptions>, prefix: string, seeds: LayerSeeds): SymbolicTensor {
  const { dModel, numHeads, mlpDim, dropout: rate } = options;
  const norm = (input: SymbolicTensor, name: string) => apply(layerNormalization({ epsilon: VIT_LAYER_NORM_EPSILON, name }), input);
  const attentionSeed = seeds.take();
  // The layer draws its four kernels with seeds attentionSeed .. attentionSeed + 3.
  for (let i = 0; i < 3; i++) seeds.take();
  const attention = new MultiHeadAttention({
    numHeads,
    keyDim: dModel / numHeads,
    dropout: rate,
    kernelInitializer: tf.initializers.glorotUniform({ seed: attentionSeed }),
    name: `${prefix}_attention`,
  });
  const attended = apply(tf.layers.add({ name: `${prefix}_add1` }), [x, apply(attention, norm(x, `${prefix}_norm1`))]);
  let hidden = dense(norm(attended, `${prefix}_norm2`), mlpDim, `${prefix}_mlp1`, seeds, 'gelu');
  hidden = dropout(hidden, rate, `${prefix}_mlp1_dropout`);
  const projected = dropout(dense(hidden, dModel, `${prefix}_mlp2`, seeds), rate, `${prefix}_mlp2_dropout`);
  return apply(tf.layers.add({ name: `${prefix}_add2` }), [attended, projected]);
}

function checkOptions(options: Required<VitOptions>): void {
  const { inputShape, patchSize, dModel, numHeads, depth, mlpDim, numClasses, dropout: rate } = options;
  for (const [what, value] of Object.entries({ numClasses, patchSize, dModel, depth, numHeads, mlpDim })) checkPositiveInteger(what, value);
  if (inputShape.length !== 3 || inputShape[0] % patchSize !== 0 || inputShape[1] % patchSize !== 0) {
    throw new Error(`the ViT needs [height, width, channels] images divisible into ${patchSize}x${patchSize} patches, got [${inputShape.join(', ')}]`);
  }
  if (dModel % numHeads !== 0) throw new Error(`dModel ${dModel} must be a multiple of numHeads ${numHeads}`);
  if (!VIT_POOLINGS.includes(options.pooling)) throw new Error(`pooling must be one of ${VIT_POOLINGS.join(', ')}, got '${String(options.pooling)}'`);
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout must be in [0, 1), got ${rate}`);
}

/**
 * A Vision Transformer for small images (Dosovitskiy et al. 2021) with pre-norm blocks, as a
 * plain serialisable functional LayersModel of tfjs and @ippro/layers layers:
 * Conv2D(dModel, patchSize, strides patchSize) `patch_embed` -> Reshape to tokens
 * `patch_tokens` -> [ippro>ClassToken `class_token`] -> ippro>PositionEmbedding
 * `position_embedding` -> `depth` blocks `block{i}_`: norm1, attention, add1, norm2,
 * mlp1 (gelu), mlp2, add2 -> LayerNormalization `final_norm` -> the class token
 * (ippro>TakeClassToken `class_output`) or the mean of the tokens
 * (GlobalAveragePooling1D `token_pool`) -> the softmax `classifier`.
 *
 * Defaults (32x32 images, patch 4, dModel 128, 6 blocks of 4 heads, MLP 256, average pooling):
 * 810,890 parameters and 57.0M multiply-accumulates per image for 10 classes (ResNet-20: 274,042
 * and 40.8M).
 */
export function buildVit(options: VitOptions = {}): tf.LayersModel {
  const resolved: Required<VitOptions> = {
    ...VIT_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  };
  checkOptions(resolved);
  const { inputShape, patchSize, dModel, depth, pooling } = resolved;
  const seeds = new LayerSeeds(resolved.seed);
  const image = tf.input({ shape: inputShape, name: 'image' });
  const patches = apply(
    tf.layers.conv2d({
      filters: dModel,
      kernelSize: patchSize,
      strides: patchSize,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.take() }),
      name: 'patch_embed',
    }),
    image,
  );
  const tokens = (inputShape[0] / patchSize) * (inputShape[1] / patchSize);
  let x = apply(tf.layers.reshape({ targetShape: [tokens, dModel], name: 'patch_tokens' }), patches);
  if (pooling === 'class-token') x = apply(new ClassToken({ name: 'class_token' }), x);
  const positions = new PositionEmbedding({
    embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: seeds.take() }),
    name: 'position_embedding',
  });
  x = apply(positions, x);
  for (let block = 1; block <= depth; block++) x = encoderBlock(x, resolved, `block${block}`, seeds);
  x = apply(layerNormalization({ epsilon: VIT_LAYER_NORM_EPSILON, name: 'final_norm' }), x);
  const pooled =
    pooling === 'class-token'
      ? apply(new TakeClassToken({ name: 'class_output' }), x)
      : apply(tf.layers.globalAveragePooling1d({ name: 'token_pool' }), x);
  return tf.model({ inputs: image, outputs: classifierLayer(pooled, resolved.numClasses, seeds, resolved.output), name: 'vit' });
}
