import { serialization } from '@tensorflow/tfjs-core';
import { LayerNormalization } from './layer-normalization';
import { MultiHeadAttention } from './multi-head-attention';
import { ClassToken, PositionEmbedding, TakeClassToken } from './token-layers';

export { MultiHeadAttention, ATTENTION_WEIGHTS } from './multi-head-attention';
export type { AttentionWeightName, MultiHeadAttentionArgs } from './multi-head-attention';
export { ClassToken, PositionEmbedding, TakeClassToken } from './token-layers';
export { LayerNormalization, layerNormalization } from './layer-normalization';
export type { ClassTokenArgs, PositionEmbeddingArgs } from './token-layers';
export { HEADS_TAP_POINT, INTERNAL_TAPS_ARG } from './internal-taps';
export type { InternalTap, InternalTaps } from './internal-taps';

/**
 * The classes this package registers, so stock tf.loadLayersModel reads models that use them.
 * LayerNormalization replaces tfjs's class of that name (same config and weights, a faster gradient).
 */
export const IPPRO_LAYER_CLASSES = [MultiHeadAttention, ClassToken, PositionEmbedding, TakeClassToken, LayerNormalization] as const;

for (const layerClass of IPPRO_LAYER_CLASSES) serialization.registerClass(layerClass);
