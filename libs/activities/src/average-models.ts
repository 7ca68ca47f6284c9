import { ComputeInputError } from '@ippro/compute-core';
import { packModelArtifact, unpackModelArtifact } from '@ippro/model-artifact';
import { canonicalJson } from '@ippro/model-artifact';

export interface WeightedModel {
  bytes: Uint8Array;
  /** The replica's sample count: its weight in the average. */
  weight: number;
}

/**
 * The sample-weighted average of models of one architecture, on the artifact bytes: every
 * float32 weight value becomes sum_i(n_i * w_i) / sum_i(n_i), summed in float64 in the given
 * order and rounded once to float32. int32 weights must agree. Deterministic: the same inputs in
 * the same order give the same bytes. Batch-norm moving statistics are averaged like weights.
 */
export function averageModelArtifacts(models: readonly WeightedModel[]): Buffer {
  const first = models[0];
  if (first === undefined) throw new ComputeInputError('averageModels needs at least one model');
  const parts = models.map((model) => unpackModelArtifact(model.bytes));
  const reference = parts[0] as (typeof parts)[number];
  const topology = canonicalJson(reference.modelJson);
  parts.forEach((part, index) => {
    if (canonicalJson(part.modelJson) !== topology) throw new ComputeInputError(`models[${index}] has another architecture than models[0]; replicas must share one`);
  });
  const total = models.reduce((sum, model) => sum + model.weight, 0);
  models.forEach((model, index) => {
    if (!(model.weight >= 0) || !Number.isFinite(model.weight)) throw new ComputeInputError(`models[${index}].sampleCount must be a non-negative number, got ${model.weight}`);
  });
  if (!(total > 0)) throw new ComputeInputError('averageModels: the sample counts add up to 0');
  if (models.length === 1) return Buffer.from(first.bytes);
  const out = new Uint8Array(reference.weights.byteLength);
  const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const views = parts.map((part) => view(part.weights));
  const target = view(out);
  let offset = 0;
  for (const spec of reference.modelJson.weightsManifest[0]?.weights ?? []) {
    const length = spec.shape.reduce((product, size) => product * size, 1);
    for (let element = 0; element < length; element += 1, offset += 4) {
      if (spec.dtype === 'int32') {
        const value = (views[0] as DataView).getInt32(offset, true);
        views.forEach((source, index) => {
          if (source.getInt32(offset, true) !== value) throw new ComputeInputError(`models[${index}] weight "${spec.name}" is int32 and differs from models[0]; it cannot be averaged`);
        });
        target.setInt32(offset, value, true);
      } else {
        let sum = 0;
        for (let index = 0; index < views.length; index += 1) {
          sum += (models[index] as WeightedModel).weight * (views[index] as DataView).getFloat32(offset, true);
        }
        target.setFloat32(offset, sum / total, true);
      }
    }
  }
  return packModelArtifact({ modelJson: reference.modelJson, weights: out });
}
