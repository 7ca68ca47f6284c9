import type { LabeledDataset } from '@ippro/data';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { OutputKindError, resolveOutputKind } from './output-kind';
import type { OutputSetting } from './output-kind';

/**
 * Why a model cannot be trained or evaluated on a dataset (input shape, output kind, class or label
 * count), or undefined when it can. Softmax kinds (probabilities, logits) need one output per class
 * and class labels; a one-unit sigmoid takes labels 0/1 (two classes); a sigmoid of k units takes
 * k multi-hot labels, or class indices of k classes (one-vs-rest).
 */
export function modelDataMismatch(model: LayersModel, dataset: LabeledDataset, output: OutputSetting = 'auto'): string | undefined {
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const shape = model.outputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return 'the model must have one input and one output';
  if (input.length !== dataset.sampleShape.length || input.some((dim, i) => dim !== null && dim !== dataset.sampleShape[i])) {
    return `the model takes inputs of shape [${input.map((d) => d ?? '?').join(', ')}], but ${dataset.description} has samples of shape [${dataset.sampleShape.join(', ')}]`;
  }
  let kind;
  try {
    kind = resolveOutputKind(model, output);
  } catch (error) {
    if (error instanceof OutputKindError) return error.message;
    throw error;
  }
  const units = shape[1] as number;
  const multiHot = dataset.multiHotLabel !== undefined;
  const labels = `${dataset.description} has ${dataset.numClasses} ${multiHot ? 'multi-hot labels' : 'classes'}`;
  if (kind !== 'sigmoid') {
    if (multiHot) return `${dataset.description} has multi-hot labels, which need a sigmoid output; the model outputs ${kind}`;
    return units === dataset.numClasses ? undefined : `the model outputs [${units}] values, but ${labels}`;
  }
  if (units === 1) {
    const binary = multiHot ? dataset.numClasses === 1 : dataset.numClasses <= 2;
    return binary ? undefined : `the model's one sigmoid unit takes labels 0/1, but ${labels}`;
  }
  return units === dataset.numClasses ? undefined : `the model outputs [${units}] sigmoid values, but ${labels}`;
}
