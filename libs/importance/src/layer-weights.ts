import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** The part of a tfjs-layers Layer this library reads. */
export type LayerLike = ReturnType<LayersModel['getLayer']>;

/** The model's layer of that name, or an error naming the missing layer. */
export function requireLayer(model: LayersModel, name: string): LayerLike {
  const layer = model.layers.find((candidate) => candidate.name === name);
  if (layer === undefined) {
    throw new Error(`layer '${name}' is not in model '${model.name}'`);
  }
  return layer;
}

/**
 * A layer's weight by its short name ('kernel', 'gamma', ...). Matched on the original
 * name because tfjs may uniquify the variable's runtime name when models are loaded twice.
 */
export function findLayerWeight(layer: LayerLike, shortName: string): tf.Variable {
  const weight = layer.weights.find((candidate) => candidate.originalName.endsWith(`/${shortName}`));
  if (weight === undefined) {
    throw new Error(`layer '${layer.name}' (${layer.getClassName()}) has no weight '${shortName}'`);
  }
  return weight.read() as tf.Variable;
}

/** A layer's weight by short name, or undefined when the layer does not have it. */
export function optionalLayerWeight(layer: LayerLike, shortName: string): tf.Variable | undefined {
  const weight = layer.weights.find((candidate) => candidate.originalName.endsWith(`/${shortName}`));
  return weight === undefined ? undefined : (weight.read() as tf.Variable);
}
