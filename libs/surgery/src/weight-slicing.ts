import * as tf from '@tensorflow/tfjs-core';
import type { layers } from '@tensorflow/tfjs-layers';
import type { LayerNode } from '@ippro/graph';
import type { KeptChannels } from './kept-channels';
import { SurgeryError } from './surgery-error';

/** Slices one weight of a layer down to the kept channels. */
type WeightSlicer = (weight: tf.Tensor, kept: KeptChannels) => tf.Tensor;

function take(weight: tf.Tensor, indices: readonly number[], axis: number): tf.Tensor {
  return tf.gather(weight, tf.tensor1d(indices as number[], 'int32'), axis);
}

/** Rows c*m + k of an input-times-multiplier axis, for every kept input channel c. */
function expandByMultiplier(channels: readonly number[], multiplier: number): number[] {
  return channels.flatMap((channel) => Array.from({ length: multiplier }, (_, k) => channel * multiplier + k));
}

const perOutputChannel: WeightSlicer = (weight, kept) => take(weight, kept.outputs, 0);

const conv2dKernel: WeightSlicer = (weight, kept) => take(take(weight, kept.inputs, 2), kept.outputs, 3);

/** Behind a Flatten, channel c of position p is feature p*C + c (channels-last order). */
function flattenedFeatures(kept: KeptChannels): number[] {
  const features: number[] = [];
  for (let position = 0; position < kept.inputSpatialSize; position++) {
    for (const channel of kept.inputs) features.push(position * kept.inputCount + channel);
  }
  return features;
}

const denseKernel: WeightSlicer = (weight, kept) => take(take(weight, flattenedFeatures(kept), 0), kept.outputs, 1);

const depthwiseKernel: WeightSlicer = (weight, kept) => take(weight, kept.inputs, 2);

/** [1, 1, in*m, out]: rows follow the depthwise outputs of kept inputs, columns the kept filters. */
const pointwiseKernel: WeightSlicer = (weight, kept) => {
  const multiplier = Number(weight.shape[2]) / kept.inputCount;
  return take(take(weight, expandByMultiplier(kept.inputs, multiplier), 2), kept.outputs, 3);
};

/** Weight slicers by layer class, then by the weight's own name (the part after the '/'). */
const SLICERS: Readonly<Record<string, Readonly<Record<string, WeightSlicer>>>> = {
  Conv2D: { kernel: conv2dKernel, bias: perOutputChannel },
  Dense: { kernel: denseKernel, bias: perOutputChannel },
  DepthwiseConv2D: { depthwise_kernel: depthwiseKernel, bias: perOutputChannel },
  SeparableConv2D: { depthwise_kernel: depthwiseKernel, pointwise_kernel: pointwiseKernel, bias: perOutputChannel },
  BatchNormalization: {
    gamma: perOutputChannel,
    beta: perOutputChannel,
    moving_mean: perOutputChannel,
    moving_variance: perOutputChannel,
  },
};

/** The weight's own name: 'kernel' for 'block1_conv/kernel'. */
function weightRole(variable: { originalName: string }): string {
  return variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1);
}

/** Channels-first convolutions and non-last-axis batch norms would need other slicing axes. */
function assertChannelsLast(layer: layers.Layer): void {
  const config = layer.getConfig();
  const dataFormat = config['dataFormat'];
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') {
    throw new SurgeryError(`layer '${layer.name}' uses dataFormat '${String(dataFormat)}'; surgery supports channelsLast only`);
  }
  const axis = config['axis'];
  const rank = layer.inputSpec?.[0]?.ndim;
  const lastAxis = axis === -1 || (rank !== undefined && axis === rank - 1);
  if (layer.getClassName() === 'BatchNormalization' && !lastAxis) {
    throw new SurgeryError(`BatchNormalization '${layer.name}' normalises axis ${String(axis)}; surgery supports the channel (last) axis only`);
  }
}

function slicersFor(layer: layers.Layer, node: LayerNode): Readonly<Record<string, WeightSlicer>> | null {
  if (node.role === 'frozen') return null;
  const slicers = SLICERS[layer.getClassName()];
  if (!slicers) {
    throw new SurgeryError(
      `layer '${layer.name}' (${layer.getClassName()}) has weights surgery cannot slice, and the graph gives it role '${node.role}' instead of freezing it`,
    );
  }
  assertChannelsLast(layer);
  return slicers;
}

/**
 * The layer's weights cut down to the kept channels, in the order of `layer.weights` (which a
 * layer rebuilt from the same class and config shares). A frozen layer (whose channels the
 * graph guarantees are all kept) gets copies of its weights unchanged.
 * The returned tensors are new; the layer is not modified.
 */
export function sliceLayerWeights(
  layer: layers.Layer,
  node: LayerNode,
  kept: KeptChannels,
): tf.Tensor[] {
  const slicers = slicersFor(layer, node);
  return tf.tidy(() =>
    layer.weights.map((variable) => {
      const value = variable.read();
      if (slicers === null) return tf.clone(value);
      const slicer = slicers[weightRole(variable)];
      if (!slicer) {
        throw new SurgeryError(`layer '${layer.name}' (${layer.getClassName()}) has an unexpected weight '${variable.originalName}'`);
      }
      return slicer(value, kept);
    }),
  );
}
