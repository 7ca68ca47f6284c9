import type * as tf from '@tensorflow/tfjs-core';
import type { GroupMember } from '@ippro/graph';
import type { LayerLike } from './layer-weights';
import { findLayerWeight } from './layer-weights';

/**
 * One contiguous piece of F_g: the flat positions, inside one weight tensor, of a unit's
 * producing weights. Positions index the tensor's row-major data.
 */
export interface WeightSlice {
  layer: string;
  /** The weight's short name: 'kernel', 'depthwise_kernel', 'pointwise_kernel' or 'bias'. */
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

function kernelSlice(layer: LayerLike, member: GroupMember): WeightSlice {
  const className = layer.getClassName();
  let weightName: string;
  if (member.kind === 'depthwise') {
    weightName = 'depthwise_kernel';
  } else if (className === 'SeparableConv2D') {
    // A separable convolution's output channels are made by its pointwise kernel.
    weightName = 'pointwise_kernel';
  } else if (LAST_AXIS_KERNEL_CLASSES.has(className)) {
    weightName = 'kernel';
  } else {
    throw new Error(`layer '${member.layer}' (${className}) is not a supported unit producer`);
  }
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
  const hasBias = layer.weights.some((weight) => weight.originalName.endsWith('/bias'));
  if (!hasBias) {
    return undefined;
  }
  const variable = findLayerWeight(layer, 'bias');
  return { layer: member.layer, weightName: 'bias', variable, indices: Int32Array.of(member.channel) };
}

/**
 * The weight slices that make up one unit's part of F_g: its kernel slice, then (only when
 * `includeBias`) its bias entry.
 */
export function unitWeightSlices(layer: LayerLike, member: GroupMember, includeBias: boolean): WeightSlice[] {
  const slices = [kernelSlice(layer, member)];
  const bias = includeBias ? biasSlice(layer, member) : undefined;
  return bias === undefined ? slices : [...slices, bias];
}

/** A member is a unit (part of F_g) when it owns producing weights. */
export function isUnitMember(member: GroupMember): boolean {
  return member.kind === 'kernel' || member.kind === 'depthwise';
}
