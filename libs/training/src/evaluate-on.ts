import { batchAt, batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { evaluateBatches, mergeEvaluations } from '@ippro/models';
import type { EvaluationSums } from '@ippro/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Exact top-1 hits and summed loss over a whole dataset, in order, one batch in memory at a time. */
export function evaluateOn(
  model: LayersModel,
  dataset: LabeledDataset,
  batchSize: number,
  onBatch?: (done: number, total: number) => void,
): EvaluationSums {
  const total = batchCount(dataset, batchSize);
  const parts: EvaluationSums[] = [];
  for (let index = 0; index < total; index++) {
    const batch = batchAt(dataset, { batchSize, index });
    try {
      parts.push(evaluateBatches(model, [batch]));
    } finally {
      batch.dispose();
    }
    onBatch?.(index + 1, total);
  }
  return mergeEvaluations(parts);
}

/**
 * Why a model cannot be trained or evaluated on a dataset (input shape or class count), or
 * undefined when it can.
 */
export function modelDataMismatch(model: LayersModel, dataset: LabeledDataset): string | undefined {
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const output = model.outputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return 'the model must have one input and one output';
  if (input.length !== dataset.sampleShape.length || input.some((dim, i) => dim !== null && dim !== dataset.sampleShape[i])) {
    return `the model takes inputs of shape [${input.map((d) => d ?? '?').join(', ')}], but ${dataset.description} has samples of shape [${dataset.sampleShape.join(', ')}]`;
  }
  if (output.length !== 2 || output[1] !== dataset.numClasses) {
    return `the model outputs [${output.slice(1).map((d) => d ?? '?').join(', ')}] values, but ${dataset.description} has ${dataset.numClasses} classes`;
  }
  return undefined;
}
