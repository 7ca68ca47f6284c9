import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers its classes, the stock LayerNormalization among them.
import '@tensorflow/tfjs-layers';
import type { LayerNormalization as StockLayerNormalization } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

/** tfjs's own class, taken from its registry before this package registers its replacement. */
const [StockClass] = serialization.SerializationMap.getMap().classNameMap['LayerNormalization'] as [typeof StockLayerNormalization, unknown];

/** Axes 0 .. rank-2: what gamma and beta are shared over. */
function leadingAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, axis) => axis);
}

/**
 * (x - mean) / sqrt(variance + epsilon) * gamma + beta over the last axis, as one op whose
 * gradient is written out: dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat)) with g = dy * gamma,
 * dgamma = sum(dy * x_hat), dbeta = sum(dy).
 */
function normalizeLastAxis(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, offset, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const centred = tf.sub(input, tf.mean(input, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), epsilon));
    const normalized = tf.mul(centred, rstd);
    save([normalized, rstd, scale]);
    return {
      value: tf.add(tf.mul(normalized, scale), offset),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, invStd, gain] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const axes = leadingAxes(dy.rank);
        const g = tf.mul(dy, gain);
        const dx = tf.mul(invStd, tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xHat, tf.mean(tf.mul(g, xHat), -1, true))));
        return [dx, tf.sum(tf.mul(dy, xHat), axes), tf.sum(dy, axes)];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor;
}

/**
 * tfjs-layers' LayerNormalization (same class name, config and weights `gamma`, `beta`), computing
 * the usual last-axis case with gamma and beta as one op with a written-out gradient: the stock
 * layer tiles the statistics to the input's shape and takes the generic FusedBatchNorm gradient,
 * which made a ViT's backward pass on the tensorflow backend about twenty times slower than its
 * forward pass. Same values up to float rounding (tested on every backend); other axes and layers
 * without gamma or beta run the stock computation.
 */
export class LayerNormalization extends StockClass {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    const axes = this.getConfig()['axis'];
    const lastAxisOnly = Array.isArray(axes) && axes.length === 1 && (axes[0] === x.rank - 1 || axes[0] === -1);
    const gamma = this.weights.find((weight) => weight.originalName.endsWith('/gamma'));
    const beta = this.weights.find((weight) => weight.originalName.endsWith('/beta'));
    if (!lastAxisOnly || gamma === undefined || beta === undefined) return super.call(inputs, kwargs);
    return tf.tidy(() => normalizeLastAxis(x, gamma.read(), beta.read(), this.epsilon));
  }
}

/** tfl.layers.layerNormalization, this package's class. */
export function layerNormalization(args: ConstructorParameters<typeof StockLayerNormalization>[0] = {}): LayerNormalization {
  return new LayerNormalization(args);
}
