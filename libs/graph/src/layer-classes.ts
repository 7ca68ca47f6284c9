import { ClassToken, MultiHeadAttention, PositionEmbedding, TakeClassToken } from '@ippro/layers';
import type { LayerRole } from './channel-graph';

/** Keras class names the channel graph understands, by the role they play. */
const ROLE_BY_CLASS: ReadonlyMap<string, LayerRole> = new Map<string, LayerRole>([
  ['InputLayer', 'input'],
  ['Conv2D', 'producer'],
  ['Dense', 'producer'],
  ['SeparableConv2D', 'producer'],
  ['Embedding', 'producer'],
  ['DepthwiseConv2D', 'depthwise'],
  ['BatchNormalization', 'normalization'],
  ['Activation', 'passthrough'],
  ['ReLU', 'passthrough'],
  ['LeakyReLU', 'passthrough'],
  ['ELU', 'passthrough'],
  ['ThresholdedReLU', 'passthrough'],
  ['Softmax', 'passthrough'],
  ['Dropout', 'passthrough'],
  ['GaussianNoise', 'passthrough'],
  ['GaussianDropout', 'passthrough'],
  ['AlphaDropout', 'passthrough'],
  ['MaxPooling2D', 'passthrough'],
  ['AveragePooling2D', 'passthrough'],
  ['GlobalAveragePooling2D', 'passthrough'],
  ['GlobalMaxPooling2D', 'passthrough'],
  ['GlobalAveragePooling1D', 'passthrough'],
  ['GlobalMaxPooling1D', 'passthrough'],
  ['Reshape', 'passthrough'],
  [TakeClassToken.className, 'passthrough'],
  ['ZeroPadding2D', 'passthrough'],
  ['Cropping2D', 'passthrough'],
  ['UpSampling2D', 'passthrough'],
  ['Add', 'elementwise'],
  ['Subtract', 'elementwise'],
  ['Multiply', 'elementwise'],
  ['Average', 'elementwise'],
  ['Maximum', 'elementwise'],
  ['Minimum', 'elementwise'],
  ['Concatenate', 'concatenate'],
  ['Flatten', 'flatten'],
  [MultiHeadAttention.className, 'attention'],
  ['LayerNormalization', 'layer-normalization'],
  [ClassToken.className, 'token'],
  [PositionEmbedding.className, 'token'],
]);

/** Passthrough layers that act on each feature alone, so they may follow a Flatten. */
const PER_ELEMENT_CLASSES: ReadonlySet<string> = new Set([
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'ThresholdedReLU',
  'Softmax',
  'Dropout',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);

export function roleOfClass(className: string): LayerRole | undefined {
  return ROLE_BY_CLASS.get(className);
}

export function isPerElementClass(className: string): boolean {
  return PER_ELEMENT_CLASSES.has(className);
}

export function knownLayerClasses(): string[] {
  return [...ROLE_BY_CLASS.keys()];
}
