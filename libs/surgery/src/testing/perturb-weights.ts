import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { seededRandom } from './seeded-random';

/** [low, high) ranges that make freshly initialised batch norms and biases do something. */
const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  gamma: [0.5, 1.5],
  beta: [-0.3, 0.3],
  moving_mean: [-0.3, 0.3],
  moving_variance: [0.5, 1.5],
  bias: [-0.2, 0.2],
  // A class token starts at zero.
  token: [-0.3, 0.3],
};

/**
 * Freshly built models have gamma 1, beta 0, mean 0, variance 1 and zero biases, so slicing
 * them the wrong way would go unnoticed; give each such weight distinct seeded values.
 */
export function perturbWeights(model: LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const layer of model.layers) {
    for (const variable of layer.weights) {
      const range = RANGES[variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1)];
      if (!range) continue;
      const shape = variable.read().shape;
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, () => range[0] + (range[1] - range[0]) * random());
      const replacement = tf.tensor(values, shape);
      variable.write(replacement);
      replacement.dispose();
    }
  }
}
