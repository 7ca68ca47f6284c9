import * as tf from '@tensorflow/tfjs-core';

/**
 * How a tensor [batch, d_1 .. d_k, features] becomes the sequences attention works on:
 * the axes attended over (Keras's `attention_axes`, by default all of d_1 .. d_k) form the
 * tokens, every other axis joins the batch. Attention on [batch', tokens, features] is then the
 * same as Keras's einsum formulation on the original axes.
 */
export class TokenLayout {
  /** Axes in the order [batch, other axes, attention axes, features]. */
  private readonly permutation: number[];
  private readonly inverse: number[];
  readonly identity: boolean;

  constructor(
    private readonly rank: number,
    readonly attentionAxes: readonly number[],
  ) {
    const others = Array.from({ length: rank - 2 }, (_, i) => i + 1).filter((axis) => !attentionAxes.includes(axis));
    this.permutation = [0, ...others, ...attentionAxes, rank - 1];
    this.inverse = this.permutation.map((_, axis) => this.permutation.indexOf(axis));
    this.identity = this.permutation.every((axis, position) => axis === position);
  }

  /** [batch', tokens, features]. */
  toSequences(x: tf.Tensor): tf.Tensor3D {
    const moved = this.identity ? x : tf.transpose(x, this.permutation);
    const tokens = this.attentionAxes.reduce((product, axis) => product * x.shape[axis], 1);
    return tf.reshape(moved, [-1, tokens, x.shape[this.rank - 1]]);
  }

  /** Back from [batch', tokens, features'] to the layout of `like` with `features'` on the last axis. */
  fromSequences(y: tf.Tensor3D, like: readonly number[]): tf.Tensor {
    const features = y.shape[2];
    const movedShape = this.permutation.slice(0, -1).map((axis) => like[axis]);
    const moved = tf.reshape(y, [...movedShape, features]);
    return this.identity ? moved : tf.transpose(moved, this.inverse);
  }
}

/** Keras's default: every axis between the batch and the features. Negative axes count from the end. */
export function normalizeAttentionAxes(axes: readonly number[] | null, rank: number, layerName: string): number[] {
  if (axes === null) return Array.from({ length: rank - 2 }, (_, i) => i + 1);
  const normalized = axes.map((axis) => (axis < 0 ? axis + rank : axis));
  const bad = normalized.find((axis) => !Number.isInteger(axis) || axis < 1 || axis > rank - 2);
  if (bad !== undefined || new Set(normalized).size !== normalized.length || normalized.length === 0) {
    throw new Error(
      `MultiHeadAttention '${layerName}': attentionAxes [${axes.join(', ')}] must be distinct axes between the batch axis and the feature axis of a rank-${rank} input`,
    );
  }
  return [...normalized].sort((a, b) => a - b);
}
