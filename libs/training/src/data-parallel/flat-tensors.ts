import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { createHash } from 'node:crypto';

/** The tensors' values one after another, in the given order. */
export function flattenTensors(tensors: readonly tf.Tensor[]): Float32Array {
  const flat = new Float32Array(tensors.reduce((sum, tensor) => sum + tensor.size, 0));
  let offset = 0;
  for (const tensor of tensors) {
    flat.set(tensor.dataSync() as Float32Array, offset);
    offset += tensor.size;
  }
  return flat;
}

/** The inverse of flattenTensors for tensors of these shapes; the caller disposes the result. */
export function unflattenTensors(flat: Float32Array, shapes: readonly (readonly number[])[]): tf.Tensor[] {
  let offset = 0;
  const tensors = shapes.map((shape) => {
    const size = shape.reduce((product, dim) => product * dim, 1);
    const tensor = tf.tensor(flat.subarray(offset, offset + size), [...shape], 'float32');
    offset += size;
    return tensor;
  });
  if (offset !== flat.length) throw new Error(`${flat.length} values for tensors of ${offset}`);
  return tensors;
}

/**
 * The model's non-trainable weights (batch-norm moving means and variances): training moves
 * them in each process from its own part of the batch, so they are averaged like gradients.
 */
export function statisticsOf(model: LayersModel): Float32Array {
  return flattenTensors(model.nonTrainableWeights.map((weight) => weight.read()));
}

export function setStatistics(model: LayersModel, values: Float32Array): void {
  const weights = model.nonTrainableWeights;
  const tensors = unflattenTensors(values, weights.map((weight) => weight.read().shape));
  weights.forEach((weight, i) => weight.write(tensors[i] as tf.Tensor));
  tf.dispose(tensors);
}

/** A digest of every weight's bytes, in the model's order: equal replicas have equal digests. */
export function weightsDigest(model: LayersModel): string {
  const hash = createHash('sha256');
  for (const weight of model.weights) {
    const values = weight.read().dataSync() as Float32Array;
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
