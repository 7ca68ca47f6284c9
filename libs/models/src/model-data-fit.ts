import type { LabeledDataset } from '@ippro/data';
import type { LayersModel } from '@tensorflow/tfjs-layers';

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
