import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph, LayerTap } from '@ippro/graph';
import { applyWithTaps } from '@ippro/graph';

function allFinite(tensor: tf.Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(tensor)).dataSync()[0] === 1);
}

/**
 * Names where a non-finite value first appears in a forward pass: an input, else the first
 * layer (in the order the model computes them) whose output is not finite. Only run after a
 * failure, so its extra cost never touches a healthy pass.
 */
export function locateNonFinite(
  model: LayersModel,
  graph: ChannelGraph,
  inputs: tf.Tensor | tf.Tensor[],
  training: boolean,
): string {
  const inputList = Array.isArray(inputs) ? inputs : [inputs];
  const badInput = inputList.findIndex((input) => !allFinite(input));
  if (badInput >= 0) {
    return `model input '${model.inputNames[badInput] ?? badInput}'`;
  }
  let first: string | undefined;
  const taps = new Map<string, LayerTap>();
  // Model inputs are checked above; applyWithTaps taps only layers the model computes.
  for (const node of graph.layers.filter((candidate) => candidate.role !== 'input')) {
    taps.set(node.name, (output) => {
      if (first === undefined && !allFinite(output)) {
        first = node.name;
      }
      return output;
    });
  }
  tf.tidy(() => {
    applyWithTaps(model, inputs, taps, { training });
  });
  return first === undefined ? 'the loss (every layer output is finite)' : `layer '${first}'`;
}
