import type * as tfl from '@tensorflow/tfjs-layers';

/** Throws an error naming the layer and weight when any weight is NaN or infinite. */
export function validateModelWeights(model: tfl.LayersModel): void {
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const values = weight.read().dataSync();
      const bad = values.findIndex((v: number) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new Error(
          `Layer "${layer.name}" weight "${weight.originalName}" has a non-finite value (${values[bad]}) at element ${bad}`,
        );
      }
    }
  }
}
