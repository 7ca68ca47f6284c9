import type * as tf from '@tensorflow/tfjs-core';

/**
 * A function that replaces an internal tensor of a layer by a function of it (same shape). The
 * tensor's last axis is the one the tap point names (for `heads`: one entry per attention head).
 */
export type InternalTap = (tensor: tf.Tensor) => tf.Tensor;

/**
 * The call argument (`layer.apply(x, { [INTERNAL_TAPS_ARG]: { heads: tap } })`) through which a
 * scoring pass reaches a tensor inside a layer, as @ippro/graph's applyWithTaps does for the
 * per-head attention output. Only concrete calls use it; it is never serialized.
 */
export const INTERNAL_TAPS_ARG = 'internalTaps';

/** MultiHeadAttention's tap point: the attention output of every head, before the output projection. */
export const HEADS_TAP_POINT = 'heads';

/** The internal taps a call was given, keyed by tap point. */
export type InternalTaps = Readonly<Record<string, InternalTap>>;
