import { createHash } from 'node:crypto';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * sha256 (hex) of the model's topology JSON and every weight's name, shape and bytes in the
 * model's weight order: two processes holding the same model agree on it.
 */
export function computeModelHash(model: LayersModel): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(model.toJSON(null, false)));
  for (const weight of model.weights) {
    hash.update(`\u0000${weight.originalName}\u0000${weight.dtype}\u0000${weight.shape.join(',')}\u0000`);
    const values = weight.read().dataSync();
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
