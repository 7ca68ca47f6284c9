import type * as tf from '@tensorflow/tfjs-core';
import type { GroupMember } from '@ippro/graph';
import { MultiHeadAttention, type AttentionWeightName } from '@ippro/layers';
import type { LayerLike } from './layer-weights';
import { findLayerWeight } from './layer-weights';

/**
 * One contiguous piece of F_g: the flat positions, inside one weight tensor, of a unit's
 * producing weights. Positions index the tensor's row-major data.
 */
export interface WeightSlice {
  layer: string;
  /**
   * The weight's short name: 'kernel', 'depthwise_kernel', 'pointwise_kernel', 'embeddings',
   * 'bias', or a MultiHeadAttention's 'query/kernel' .. 'attention_output/bias'.
   */
  weightName: string;
  variable: tf.Variable;
  indices: Int32Array;
}

/** Layers whose kernel keeps the output channel on its last axis. */
const LAST_AXIS_KERNEL_CLASSES = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D']);

/** Flat positions of kernel[..., unit]: every row-major index whose last coordinate is `unit`. */
function lastAxisIndices(shape: readonly number[], unit: number): Int32Array {
  const outputs = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((product, size) => product * size, 1);
  const indices = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    indices[row] = row * outputs + unit;
  }
  return indices;
}

/** Flat positions of depthwise kernel[:, :, c, k] for output channel c * multiplier + k. */
function depthwiseIndices(shape: readonly number[], outputChannel: number): Int32Array {
  const [height, width, inputs, multiplier] = shape;
  const inputChannel = Math.floor(outputChannel / multiplier);
  const k = outputChannel % multiplier;
  const indices = new Int32Array(height * width);
  for (let position = 0; position < height * width; position++) {
    indices[position] = (position * inputs + inputChannel) * multiplier + k;
  }
  return indices;
}

/** Flat positions of kernel[:, head, :] in a [features, heads, size] projection, or bias[head, :] in [heads, size]. */
function headIndices(shape: readonly number[], head: number): Int32Array {
  const [rows, heads, size] = shape.length === 2 ? [1, shape[0], shape[1]] : shape;
  const indices = new Int32Array(rows * size);
  for (let row = 0; row < rows; row++) {
    for (let k = 0; k < size; k++) indices[row * size + k] = (row * heads + head) * size + k;
  }
  return indices;
}

const HEAD_PROJECTIONS = ['query', 'key', 'value'] as const;

/** A head's query, key and value kernel slices [:, h, :], then (with the bias) their bias rows [h, :]. */
function headSlices(layer: LayerLike, member: GroupMember, includeBias: boolean): WeightSlice[] {
  if (!(layer instanceof MultiHeadAttention)) throw new Error(`head ${member.layer}/${member.channel} is not a head of a MultiHeadAttention`);
  if (!Number.isInteger(member.channel) || member.channel < 0 || member.channel >= layer.numHeads) {
    throw new Error(`head ${member.layer}/${member.channel} is outside the layer's ${layer.numHeads} heads`);
  }
  const slice = (weightName: AttentionWeightName): WeightSlice => {
    const variable = findLayerWeight(layer, weightName);
    return { layer: member.layer, weightName, variable, indices: headIndices(variable.shape, member.channel) };
  };
  const kernels = HEAD_PROJECTIONS.map((projection) => slice(`${projection}/kernel`));
  return includeBias && layer.useBias ? [...kernels, ...HEAD_PROJECTIONS.map((projection) => slice(`${projection}/bias`))] : kernels;
}

/** The weight whose last axis (or depthwise channel) makes a producer's output channels. */
function producingWeight(className: string, member: GroupMember): string {
  if (member.kind === 'depthwise') return 'depthwise_kernel';
  // A separable convolution's output channels are made by its pointwise kernel.
  if (className === 'SeparableConv2D') return 'pointwise_kernel';
  if (className === MultiHeadAttention.className) return 'attention_output/kernel';
  if (className === 'Embedding') return 'embeddings';
  if (LAST_AXIS_KERNEL_CLASSES.has(className)) return 'kernel';
  throw new Error(`layer '${member.layer}' (${className}) is not a supported unit producer`);
}

function kernelSlice(layer: LayerLike, member: GroupMember): WeightSlice {
  const weightName = producingWeight(layer.getClassName(), member);
  const variable = findLayerWeight(layer, weightName);
  const shape: readonly number[] = variable.shape;
  const channels = member.kind === 'depthwise' ? shape[2] * shape[3] : shape[shape.length - 1];
  if (!Number.isInteger(member.channel) || member.channel < 0 || member.channel >= channels) {
    throw new Error(`unit ${member.layer}/${member.channel} is outside the layer's ${channels} output channels`);
  }
  const indices =
    member.kind === 'depthwise' ? depthwiseIndices(shape, member.channel) : lastAxisIndices(shape, member.channel);
  return { layer: member.layer, weightName, variable, indices };
}

function biasSlice(layer: LayerLike, member: GroupMember): WeightSlice | undefined {
  const weightName = layer instanceof MultiHeadAttention ? 'attention_output/bias' : 'bias';
  const hasBias = layer.weights.some((weight) => weight.originalName.endsWith(`/${weightName}`));
  if (!hasBias) {
    return undefined;
  }
  const variable = findLayerWeight(layer, weightName);
  return { layer: member.layer, weightName, variable, indices: Int32Array.of(member.channel) };
}

/**
 * The weight slices that make up one unit's part of F_g: its kernel slice (for a head, its
 * query, key and value slices), then (only when `includeBias`) its bias entries.
 */
export function unitWeightSlices(layer: LayerLike, member: GroupMember, includeBias: boolean): WeightSlice[] {
  if (member.kind === 'head') return headSlices(layer, member, includeBias);
  const slices = [kernelSlice(layer, member)];
  const bias = includeBias ? biasSlice(layer, member) : undefined;
  return bias === undefined ? slices : [...slices, bias];
}
