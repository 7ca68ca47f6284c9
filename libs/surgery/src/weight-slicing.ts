import * as tf from '@tensorflow/tfjs-core';
import type { layers } from '@tensorflow/tfjs-layers';
import type { LayerNode } from '@ippro/graph';
import { ClassToken, MultiHeadAttention, PositionEmbedding } from '@ippro/layers';
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

/** Kept channels on the last axis: a position embedding [tokens, d], an embedding table [rows, d]. */
const lastAxis: WeightSlicer = (weight, kept) => take(weight, kept.outputs, weight.rank - 1);

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

/**
 * A MultiHeadAttention's weights, given its heads node's kept channels (inputs: the channels
 * the heads read; outputs: the kept heads) and its own (outputs: the output projection's kept
 * columns): projections [in, heads, size] keep rows and heads, their biases [heads, size] the
 * heads, the output kernel [heads, valueDim, out] heads and columns, its bias the columns.
 */
function attentionSlicers(heads: KeptChannels): Readonly<Record<string, WeightSlicer>> {
  const projection: WeightSlicer = (weight) => take(take(weight, heads.inputs, 0), heads.outputs, 1);
  const projectionBias: WeightSlicer = (weight) => take(weight, heads.outputs, 0);
  return {
    'query/kernel': projection,
    'query/bias': projectionBias,
    'key/kernel': projection,
    'key/bias': projectionBias,
    'value/kernel': projection,
    'value/bias': projectionBias,
    'attention_output/kernel': (weight, kept) => take(take(weight, heads.outputs, 0), kept.outputs, 2),
    'attention_output/bias': perOutputChannel,
  };
}

/** Weight slicers by layer class, then by the weight's name inside the layer ('kernel', 'query/kernel'). */
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
  LayerNormalization: { gamma: perOutputChannel, beta: perOutputChannel },
  Embedding: { embeddings: lastAxis },
  [ClassToken.className]: { token: perOutputChannel },
  [PositionEmbedding.className]: { embeddings: lastAxis },
};

/** The weight's name inside its layer: 'kernel' for 'block1_conv/kernel', 'query/kernel' for 'block1_attention/query/kernel'. */
function weightRole(layer: layers.Layer, variable: { originalName: string }): string {
  const prefix = `${layer.name}/`;
  const name = variable.originalName;
  return name.startsWith(prefix) ? name.slice(prefix.length) : name.slice(name.lastIndexOf('/') + 1);
}

/** Channels-first convolutions and non-last-axis batch norms would need other slicing axes. */
function assertChannelsLast(layer: layers.Layer): void {
  const config = layer.getConfig();
  const dataFormat = config['dataFormat'];
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') {
    throw new SurgeryError(`layer '${layer.name}' uses dataFormat '${String(dataFormat)}'; surgery supports channelsLast only`);
  }
  const configured = config['axis'];
  const axis = Array.isArray(configured) && configured.length === 1 ? configured[0] : configured;
  const rank = layer.inboundNodes[0]?.inputTensors[0]?.shape.length;
  const channelAxis = axis === -1 || (rank !== undefined && axis === rank - 1);
  const className = layer.getClassName();
  if ((className === 'BatchNormalization' || className === 'LayerNormalization') && !channelAxis) {
    throw new SurgeryError(`${className} '${layer.name}' normalises axis ${JSON.stringify(configured)}; surgery supports the channel (last) axis only`);
  }
}

function slicersFor(layer: layers.Layer, node: LayerNode, heads: KeptChannels | undefined): Readonly<Record<string, WeightSlicer>> | null {
  if (node.role === 'frozen') return null;
  if (layer instanceof MultiHeadAttention) {
    if (heads === undefined) throw new SurgeryError(`attention '${layer.name}' has no heads node in the graph`);
    return attentionSlicers(heads);
  }
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
 * graph guarantees are all kept) gets copies of its weights unchanged. `heads`: for a
 * MultiHeadAttention, the kept channels of its heads node.
 * The returned tensors are new; the layer is not modified.
 */
export function sliceLayerWeights(
  layer: layers.Layer,
  node: LayerNode,
  kept: KeptChannels,
  heads?: KeptChannels,
): tf.Tensor[] {
  const slicers = slicersFor(layer, node, heads);
  return tf.tidy(() =>
    layer.weights.map((variable) => {
      const value = variable.read();
      if (slicers === null) return tf.clone(value);
      const slicer = slicers[weightRole(layer, variable)];
      if (!slicer) {
        throw new SurgeryError(`layer '${layer.name}' (${layer.getClassName()}) has an unexpected weight '${variable.originalName}'`);
      }
      return slicer(value, kept);
    }),
  );
}
