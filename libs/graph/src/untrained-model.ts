import type * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalizationLayers } from './batch-norm-layers';

/**
 * Why a model looks untrained, or undefined when nothing cheap says so. The test: every
 * BatchNormalization layer still holds its initial moving statistics, mean exactly 0 and variance
 * exactly 1 in every channel. Any training step in training mode moves them, so a trained model
 * never passes it; a model without batch normalisation is never flagged.
 */
export function untrainedModelReason(model: tfl.LayersModel): string | undefined {
  const batchNorms = batchNormalizationLayers(model);
  if (batchNorms.length === 0) return undefined;
  const initial = batchNorms.every((layer) =>
    layer.weights.every((weight) => {
      const expected = weight.originalName.endsWith('/moving_mean') ? 0 : weight.originalName.endsWith('/moving_variance') ? 1 : undefined;
      return expected === undefined || weight.read().dataSync().every((value: number) => value === expected);
    }),
  );
  return initial
    ? `every one of its ${batchNorms.length} BatchNormalization layers still has its initial moving statistics (mean 0, variance 1), so it looks untrained: scores and accuracy of an untrained model say little about a trained one`
    : undefined;
}
