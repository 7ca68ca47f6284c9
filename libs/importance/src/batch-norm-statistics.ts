import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { batchNormalizationLayers } from '@ippro/graph';
import { optionalLayerWeight } from './layer-weights';

const MOVING_STATISTICS = ['moving_mean', 'moving_variance'];

/**
 * Snapshots every BatchNormalization's moving statistics. A training-mode pass (batch
 * statistics) updates them as a side effect; scoring must leave the model unchanged, so the
 * returned function writes the snapshot back and frees it.
 */
export function preserveBatchNormStatistics(model: LayersModel): () => void {
  const saved: Array<[tf.Variable, tf.Tensor]> = [];
  for (const layer of batchNormalizationLayers(model)) {
    for (const name of MOVING_STATISTICS) {
      const variable = optionalLayerWeight(layer, name);
      if (variable !== undefined) {
        saved.push([variable, tf.clone(variable)]);
      }
    }
  }
  return () => {
    for (const [variable, value] of saved) {
      variable.assign(value);
      value.dispose();
    }
  };
}
