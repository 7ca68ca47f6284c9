import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph, ChannelGroup, LayerNode } from '@ippro/graph';
import type { AttentionWeightName } from '@ippro/layers';
import type { LayerLike } from './layer-weights';
import { findLayerWeight, requireLayer } from './layer-weights';
import type { WeightSlice } from './unit-slices';

/** Flat positions of kernel[..., channel, :] in a kernel whose input axis is second to last. */
function inputAxisIndices(shape: readonly number[], channels: readonly number[]): Int32Array {
  const outputs = shape[shape.length - 1];
  const inputs = shape[shape.length - 2];
  const positions = shape.slice(0, -2).reduce((product, size) => product * size, 1);
  const indices = new Int32Array(positions * channels.length * outputs);
  let next = 0;
  for (let position = 0; position < positions; position++) {
    for (const channel of channels) {
      for (let output = 0; output < outputs; output++) {
        indices[next++] = (position * inputs + channel) * outputs + output;
      }
    }
  }
  return indices;
}

/** Flat positions of kernel[channel, ...] in a kernel whose input axis is the first. */
function firstAxisIndices(shape: readonly number[], channel: number): Int32Array {
  const size = shape.slice(1).reduce((product, extent) => product * extent, 1);
  return Int32Array.from({ length: size }, (_, offset) => channel * size + offset);
}

const ATTENTION_INPUT_KERNELS: readonly AttentionWeightName[] = ['query/kernel', 'key/kernel', 'value/kernel'];

function slice(layer: LayerLike, weightName: string, indexer: (shape: readonly number[]) => Int32Array): WeightSlice {
  const variable = findLayerWeight(layer, weightName);
  return { layer: layer.name, weightName, variable, indices: indexer(variable.shape) };
}

/**
 * The input-side weights of one consumed channel: what surgery removes from the consumer when
 * the channel goes. Behind a Flatten, channel c is the kernel rows p*C + c of every position p.
 * An attention's heads read channel c through the query, key and value kernels' rows [c, :, :];
 * its output projection reads head h through rows [h, :, :]; an Embedding reads no channels.
 */
function consumedSlices(layer: LayerLike, consumer: LayerNode, source: LayerNode, channel: number): WeightSlice[] {
  const className = layer.getClassName();
  if (consumer.role === 'attention-heads') {
    return ATTENTION_INPUT_KERNELS.map((weightName) => slice(layer, weightName, (shape) => firstAxisIndices(shape, channel)));
  }
  if (consumer.role === 'attention') return [slice(layer, 'attention_output/kernel', (shape) => firstAxisIndices(shape, channel))];
  if (className === 'Embedding') return [];
  if (className === 'Dense') {
    const rows = Array.from({ length: source.spatialSize ?? 1 }, (_, position) => position * source.outputChannels + channel);
    return [slice(layer, 'kernel', (shape) => inputAxisIndices(shape, rows))];
  }
  if (className === 'Conv1D' || className === 'Conv2D' || className === 'Conv3D') {
    return [slice(layer, 'kernel', (shape) => inputAxisIndices(shape, [channel]))];
  }
  if (className === 'SeparableConv2D') {
    const depthwise = slice(layer, 'depthwise_kernel', (shape) => inputAxisIndices(shape, [channel]));
    const shape: readonly number[] = depthwise.variable.shape;
    const multiplier = shape[3];
    const rows = Array.from({ length: multiplier }, (_, k) => channel * multiplier + k);
    return [depthwise, slice(layer, 'pointwise_kernel', (shape) => inputAxisIndices(shape, rows))];
  }
  throw new Error(`layer '${layer.name}' (${className}) consumes channels but is not a supported producer`);
}

/** Nodes with weights that read their input channels: producers and both nodes of an attention. */
const CONSUMER_ROLES: ReadonlySet<LayerNode['role']> = new Set(['producer', 'attention-heads', 'attention']);

/**
 * The consumers' input-channel slices of a group: for every channel of the group, the kernel
 * slice of each producer (Dense, Conv, SeparableConv2D, MultiHeadAttention) that reads it.
 * DepthwiseConv2D outputs are units of the group itself (part of F_g), not consumers.
 */
export function consumerInputSlices(model: LayersModel, graph: ChannelGraph, group: ChannelGroup): WeightSlice[] {
  const nodes = new Map(graph.layers.map((node) => [node.name, node]));
  const producers = graph.layers.filter((node) => CONSUMER_ROLES.has(node.role));
  const slices: WeightSlice[] = [];
  for (const { layer, channel } of group.channels) {
    const source = nodes.get(layer);
    if (source === undefined) {
      throw new Error(`group '${group.id}' names layer '${layer}', which is not in the channel graph`);
    }
    for (const consumer of producers.filter((node) => node.inputs.includes(layer))) {
      slices.push(...consumedSlices(requireLayer(model, consumer.ownerLayer ?? consumer.name), consumer, source, channel));
    }
  }
  return slices;
}
