import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
// Registers the transformer layers, so models using them load like any other.
import '@ippro/layers';
import { fileSystemIOHandler, MODEL_FILE } from './fs-io-handler';
import { validateModelWeights } from './validate-weights';

/**
 * Loads a LayersModel saved in the standard format (model.json + weights files) from a
 * directory, @ippro/layers' classes included. Errors name the file, weight or layer that is wrong.
 */
export async function loadLayersModelFromDir(dir: string): Promise<tfl.LayersModel> {
  const handler = fileSystemIOHandler(dir);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(handler);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes(dir)) throw error;
    throw new Error(`Cannot load the model in ${path.join(dir, MODEL_FILE)}: ${message}`);
  }
  try {
    // Quantized weights are only decoded by tfjs: check them (and all others) once loaded.
    validateModelWeights(model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Saves a LayersModel to a directory as model.json + weights.bin (created if missing), each
 * written to a temporary file and renamed into place.
 */
export async function saveLayersModelToDir(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystemIOHandler(dir));
}
