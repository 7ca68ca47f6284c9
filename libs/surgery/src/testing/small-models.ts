import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { layerNormalization, MultiHeadAttention } from '@ippro/layers';
import { buildVit } from '@ippro/models';

/** Small models covering every layer kind surgery slices; 8x8 inputs keep the cpu backend fast. */

type Apply = (input: SymbolicTensor | SymbolicTensor[]) => SymbolicTensor;

function applier(layer: tfl.layers.Layer): Apply {
  return (input) => layer.apply(input) as SymbolicTensor;
}

function seeded(seed: number): { kernelInitializer: ReturnType<typeof tfl.initializers.heNormal> } {
  return { kernelInitializer: tfl.initializers.heNormal({ seed }) };
}

function convBnRelu(input: SymbolicTensor, filters: number, name: string, seed: number): SymbolicTensor {
  const conv = applier(tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `${name}_conv`, ...seeded(seed) }));
  const bn = applier(tfl.layers.batchNormalization({ name: `${name}_bn` }));
  return applier(tfl.layers.activation({ activation: 'relu', name: `${name}_relu` }))(bn(conv(input)));
}

/** conv-bn-relu x4 with two max-pools, then Flatten -> Dense -> softmax Dense. */
export function buildSmallVgg(seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = convBnRelu(input, 8, 'block1a', seed);
  x = convBnRelu(x, 8, 'block1b', seed + 1);
  x = applier(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }))(x);
  x = convBnRelu(x, 12, 'block2a', seed + 2);
  x = convBnRelu(x, 12, 'block2b', seed + 3);
  x = applier(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }))(x);
  x = applier(tfl.layers.flatten({ name: 'flatten' }))(x);
  x = applier(tfl.layers.dense({ units: 16, activation: 'relu', name: 'fc1', ...seeded(seed + 4) }))(x);
  const output = applier(tfl.layers.dense({ units: 5, activation: 'softmax', name: 'classifier', ...seeded(seed + 5) }))(x);
  return tfl.model({ inputs: input, outputs: output, name: 'small_vgg' });
}

function bnRelu6(input: SymbolicTensor, name: string): SymbolicTensor {
  const bn = applier(tfl.layers.batchNormalization({ name: `${name}_bn` }))(input);
  return applier(tfl.layers.activation({ activation: 'relu6', name: `${name}_relu6` }))(bn);
}

/** MobileNetV2's inverted residual: 1x1 expand, 3x3 depthwise, 1x1 linear projection, Add. */
function invertedResidual(
  input: SymbolicTensor,
  outChannels: number,
  stride: number,
  name: string,
  seed: number,
): SymbolicTensor {
  const inChannels = input.shape[input.shape.length - 1] as number;
  const expand = applier(tfl.layers.conv2d({ filters: inChannels * 2, kernelSize: 1, useBias: false, name: `${name}_expand`, ...seeded(seed) }));
  let x = bnRelu6(expand(input), `${name}_expand`);
  const depthwise = tfl.layers.depthwiseConv2d({
    kernelSize: 3,
    strides: stride,
    padding: 'same',
    useBias: false,
    depthwiseInitializer: tfl.initializers.heNormal({ seed: seed + 1 }),
    name: `${name}_depthwise`,
  });
  x = bnRelu6(applier(depthwise)(x), `${name}_depthwise`);
  const project = applier(tfl.layers.conv2d({ filters: outChannels, kernelSize: 1, useBias: false, name: `${name}_project`, ...seeded(seed + 2) }));
  x = applier(tfl.layers.batchNormalization({ name: `${name}_project_bn` }))(project(x));
  if (stride !== 1 || inChannels !== outChannels) return x;
  return applier(tfl.layers.add({ name: `${name}_add` }))([input, x]);
}

/** A MobileNetV2-shaped network: stem, inverted residual blocks with and without Add, head. */
export function buildMiniMobileNetV2(seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  const stem = applier(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_conv', ...seeded(seed) }));
  let x = bnRelu6(stem(input), 'stem');
  x = invertedResidual(x, 8, 1, 'block1', seed + 10);
  x = invertedResidual(x, 12, 2, 'block2', seed + 20);
  x = invertedResidual(x, 12, 1, 'block3', seed + 30);
  x = invertedResidual(x, 12, 1, 'block4', seed + 40);
  const head = applier(tfl.layers.conv2d({ filters: 24, kernelSize: 1, useBias: false, name: 'head_conv', ...seeded(seed + 50) }));
  x = bnRelu6(head(x), 'head');
  x = applier(tfl.layers.globalAveragePooling2d({ name: 'pool' }))(x);
  const output = applier(tfl.layers.dense({ units: 5, activation: 'softmax', name: 'classifier', ...seeded(seed + 51) }))(x);
  return tfl.model({ inputs: input, outputs: output, name: 'mini_mobilenet_v2' });
}

/**
 * Two branches joined by Concatenate (one with batch norm, one with a bias only), a
 * SeparableConv2D and a DepthwiseConv2D with channel multipliers, then Flatten -> Dense.
 */
export function buildConcatModel(seed = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  const relu = (name: string): Apply => applier(tfl.layers.activation({ activation: 'relu', name }));
  const left = convBnRelu(input, 4, 'left', seed);
  const rightConv = tfl.layers.conv2d({ filters: 5, kernelSize: 1, name: 'right_conv', ...seeded(seed + 1) });
  const right = relu('right_relu')(applier(rightConv)(input));
  let x = applier(tfl.layers.concatenate({ axis: -1, name: 'concat' }))([left, right]);
  x = applier(tfl.layers.batchNormalization({ name: 'concat_bn' }))(x);
  const separable = tfl.layers.separableConv2d({
    filters: 6,
    kernelSize: 3,
    depthMultiplier: 2,
    padding: 'same',
    depthwiseInitializer: tfl.initializers.heNormal({ seed: seed + 2 }),
    pointwiseInitializer: tfl.initializers.heNormal({ seed: seed + 3 }),
    name: 'separable',
  });
  x = relu('separable_relu')(applier(separable)(x));
  const depthwise = tfl.layers.depthwiseConv2d({
    kernelSize: 3,
    depthMultiplier: 2,
    padding: 'same',
    depthwiseInitializer: tfl.initializers.heNormal({ seed: seed + 4 }),
    name: 'depthwise',
  });
  x = relu('depthwise_relu')(applier(depthwise)(x));
  x = applier(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }))(x);
  x = applier(tfl.layers.flatten({ name: 'flatten' }))(x);
  x = applier(tfl.layers.dense({ units: 10, activation: 'relu', name: 'fc1', ...seeded(seed + 5) }))(x);
  const output = applier(tfl.layers.dense({ units: 4, activation: 'softmax', name: 'classifier', ...seeded(seed + 6) }))(x);
  return tfl.model({ inputs: input, outputs: output, name: 'concat_net' });
}

/** A Sequential model (no explicit InputLayer in `model.layers`), ending in Flatten -> Dense. */
export function buildSequentialNet(seed = 1): tfl.LayersModel {
  return tfl.sequential({
    name: 'sequential_net',
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 6, kernelSize: 3, name: 'conv1', ...seeded(seed) }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      tfl.layers.activation({ activation: 'relu', name: 'relu1' }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 3, name: 'conv2', ...seeded(seed + 1) }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dropout({ rate: 0.1, name: 'dropout' }),
      tfl.layers.dense({ units: 3, name: 'classifier', ...seeded(seed + 2) }),
    ],
  });
}

/** A ViT of the model zoo on 4x4x2 images: 2x2 patches, width 8, two blocks of 2 heads, MLP 12, a class token. */
export function buildTinyVit(seed = 1): tfl.LayersModel {
  return buildVit({ seed, inputShape: [4, 4, 2], patchSize: 2, dModel: 8, depth: 2, numHeads: 2, mlpDim: 12, numClasses: 3, pooling: 'class-token' });
}

/**
 * Attention with valueDim 3 != keyDim 2, an explicit output width and no bias over 5 tokens
 * projected to width 8, a gelu MLP, both residual, then average pooling over the tokens.
 */
export function buildOddAttentionNet(seed = 1): tfl.LayersModel {
  const tokens = tfl.input({ shape: [5, 6], name: 'tokens' });
  const projected = applier(tfl.layers.dense({ units: 8, name: 'proj', ...seeded(seed) }))(tokens);
  const normed = applier(layerNormalization({ name: 'norm1' }))(projected);
  const attention = new MultiHeadAttention({
    numHeads: 3,
    keyDim: 2,
    valueDim: 3,
    outputShape: 8,
    useBias: false,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    name: 'attention',
  });
  const attended = applier(tfl.layers.add({ name: 'add1' }))([projected, applier(attention)(normed)]);
  const hidden = applier(tfl.layers.dense({ units: 10, activation: 'gelu', name: 'mlp1', ...seeded(seed + 5) }))(applier(layerNormalization({ name: 'norm2' }))(attended));
  const mixed = applier(tfl.layers.add({ name: 'add2' }))([attended, applier(tfl.layers.dense({ units: 8, name: 'mlp2', ...seeded(seed + 6) }))(hidden)]);
  const pooled = applier(tfl.layers.globalAveragePooling1d({ name: 'pool' }))(mixed);
  const output = applier(tfl.layers.dense({ units: 4, activation: 'softmax', name: 'classifier', ...seeded(seed + 7) }))(pooled);
  return tfl.model({ inputs: tokens, outputs: output, name: 'odd_attention_net' });
}

/** Token ids -> Embedding(12, 8) -> LayerNormalization -> self-attention (+ residual) -> mean over tokens -> softmax. */
export function buildTokenEmbeddingNet(seed = 1): tfl.LayersModel {
  const ids = tfl.input({ shape: [5], dtype: 'int32', name: 'ids' });
  const embedded = applier(tfl.layers.embedding({ inputDim: 12, outputDim: 8, embeddingsInitializer: tfl.initializers.randomNormal({ seed }), name: 'embed' }))(ids);
  const attention = new MultiHeadAttention({ numHeads: 2, keyDim: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), name: 'attention' });
  const attended = applier(tfl.layers.add({ name: 'add' }))([embedded, applier(attention)(applier(layerNormalization({ name: 'norm' }))(embedded))]);
  const pooled = applier(tfl.layers.globalAveragePooling1d({ name: 'pool' }))(attended);
  const output = applier(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', ...seeded(seed + 5) }))(pooled);
  return tfl.model({ inputs: ids, outputs: output, name: 'token_embedding_net' });
}
