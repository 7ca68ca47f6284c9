import type { ChannelGraph, LayerNode } from '@ippro/graph';
import { SurgeryError } from './surgery-error';

/** Which channels of one layer survive a removal, as ascending indices into the originals. */
export interface KeptChannels {
  /** Kept channels of the layer's first input tensor (empty for a model input). */
  inputs: number[];
  /** Kept channels of the layer's output tensor. */
  outputs: number[];
  /** Channel count of the first input before removal (0 for a model input). */
  inputCount: number;
  /** Channel count of the output before removal. */
  outputCount: number;
  /** Features per input channel: H*W when the input comes out of a Flatten, else 1. */
  inputSpatialSize: number;
  /** Features per output channel: H*W for a Flatten and per-element layers after it, else 1. */
  outputSpatialSize: number;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

function keptByGroup(node: LayerNode, removed: ReadonlySet<number>): number[] {
  if (node.channelGroups.length !== node.outputChannels) {
    throw new SurgeryError(
      `graph layer '${node.name}' lists ${node.channelGroups.length} channel groups for ${node.outputChannels} output channels`,
    );
  }
  return range(node.outputChannels).filter((channel) => !removed.has(node.channelGroups[channel]));
}

/** Depthwise output channel c*m + k comes from input channel c. */
function depthwiseOutputs(node: LayerNode, input: KeptChannels): number[] {
  const multiplier = node.outputChannels / input.outputCount;
  return input.outputs.flatMap((channel) => range(multiplier).map((k) => channel * multiplier + k));
}

function concatenatedOutputs(inputs: KeptChannels[]): number[] {
  let offset = 0;
  const outputs: number[] = [];
  for (const input of inputs) {
    for (const channel of input.outputs) outputs.push(offset + channel);
    offset += input.outputCount;
  }
  return outputs;
}

/** What the layer's role says its kept outputs must be, given its inputs; null when free. */
function impliedOutputs(node: LayerNode, inputs: KeptChannels[]): number[] | null {
  switch (node.role) {
    case 'passthrough':
    case 'normalization':
    case 'layer-normalization':
    case 'token':
    case 'flatten':
    case 'elementwise':
      return inputs[0].outputs;
    case 'depthwise':
      return depthwiseOutputs(node, inputs[0]);
    case 'concatenate':
      return concatenatedOutputs(inputs);
    case 'input':
    case 'frozen':
      return range(node.outputChannels);
    default:
      return null;
  }
}

function sameChannels(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((channel, index) => channel === b[index]);
}

function assertConsistent(node: LayerNode, inputs: KeptChannels[], outputs: number[]): void {
  const implied = impliedOutputs(node, inputs);
  const inputsAgree =
    node.role !== 'elementwise' || inputs.every((input) => sameChannels(input.outputs, outputs));
  const frozenInputsWhole =
    node.role !== 'frozen' || inputs.every((input) => input.outputs.length === input.outputCount);
  if ((implied !== null && !sameChannels(implied, outputs)) || !inputsAgree || !frozenInputsWhole) {
    throw new SurgeryError(
      `removed groups touch ${node.role} layer '${node.name}' inconsistently: the graph's channel groups do not match its inputs`,
    );
  }
}

function keptForLayer(node: LayerNode, inputs: KeptChannels[], removed: ReadonlySet<number>): KeptChannels {
  const outputs = keptByGroup(node, removed);
  assertConsistent(node, inputs, outputs);
  if (outputs.length === 0 && node.outputChannels > 0) {
    throw new SurgeryError(`removing these groups would leave layer '${node.name}' with no channels`);
  }
  const first = inputs[0];
  return {
    inputs: first ? first.outputs : [],
    outputs,
    inputCount: first ? first.outputCount : 0,
    outputCount: node.outputChannels,
    inputSpatialSize: first ? first.outputSpatialSize : 1,
    outputSpatialSize: node.spatialSize ?? 1,
  };
}

/**
 * For every layer of the graph, the input and output channels that survive removing the given
 * groups. Checks along the way that the groups respect each layer's role (a depthwise layer
 * keeps exactly the outputs of its kept inputs, an Add keeps the same channels on every input),
 * so a graph that does not describe the model fails here rather than in tfjs.
 */
export function keptChannelsPerLayer(graph: ChannelGraph, removed: ReadonlySet<number>): Map<string, KeptChannels> {
  const kept = new Map<string, KeptChannels>();
  for (const node of graph.layers) {
    const inputs = node.inputs.map((name) => {
      const input = kept.get(name);
      if (!input) {
        throw new SurgeryError(`graph layer '${node.name}' reads '${name}', which is not an earlier layer of the graph`);
      }
      return input;
    });
    kept.set(node.name, keptForLayer(node, inputs, removed));
  }
  return kept;
}
