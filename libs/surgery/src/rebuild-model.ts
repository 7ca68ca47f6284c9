import type { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * A new, unconnected-to-the-original model from a (possibly edited) config. Weights are
 * allocated but not randomly initialised: the caller overwrites every one of them.
 */
export function modelFromConfig(original: tfl.LayersModel, config: serialization.ConfigDict): tfl.LayersModel {
  const fastWeightInit = true;
  if (original instanceof tfl.Sequential) {
    return tfl.Sequential.fromConfig<tfl.Sequential>(tfl.Sequential, config, {}, fastWeightInit);
  }
  return tfl.LayersModel.fromConfig<tfl.LayersModel>(tfl.LayersModel, config, {}, fastWeightInit);
}
