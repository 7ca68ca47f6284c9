import type { LayerNode } from './channel-graph';

/** One input of a layer as the cost model sees it: kept channels and features per channel. */
export interface InputWidth {
  channels: number;
  /** Features per channel: 1, or H*W after a Flatten. */
  spatialSize: number;
}

export interface LayerCost {
  params: number;
  /** NaN when the layer's output size is not fixed. */
  macs: number;
}

function product(values: readonly number[]): number {
  return values.reduce((acc, v) => acc * v, 1);
}

/** Output positions (all axes but the channel axis); NaN when a size is unknown. */
function outputPositions(node: LayerNode): number {
  const spatial = node.outputShape.slice(0, -1);
  return spatial.some((size) => !(size > 0)) ? NaN : product(spatial);
}

function required<T>(value: T | undefined, node: LayerNode, field: string): T {
  if (value === undefined) throw new Error(`Layer "${node.name}" (${node.className}) is missing ${field} in the channel graph`);
  return value;
}

function convCost(node: LayerNode, inChannels: number, outChannels: number): LayerCost {
  const [kh, kw] = required(node.kernelSize, node, 'kernelSize');
  const weights = kh * kw * inChannels * outChannels;
  const bias = required(node.useBias, node, 'useBias') ? outChannels : 0;
  return { params: weights + bias, macs: outputPositions(node) * weights };
}

function denseCost(node: LayerNode, input: InputWidth, outChannels: number): LayerCost {
  const weights = input.channels * input.spatialSize * outChannels;
  const bias = required(node.useBias, node, 'useBias') ? outChannels : 0;
  return { params: weights + bias, macs: outputPositions(node) * weights };
}

function depthwiseCost(node: LayerNode, inChannels: number): LayerCost {
  const [kh, kw] = required(node.kernelSize, node, 'kernelSize');
  const multiplier = required(node.depthMultiplier, node, 'depthMultiplier');
  const weights = kh * kw * inChannels * multiplier;
  const bias = required(node.useBias, node, 'useBias') ? inChannels * multiplier : 0;
  return { params: weights + bias, macs: outputPositions(node) * weights };
}

function separableCost(node: LayerNode, inChannels: number, outChannels: number): LayerCost {
  const [kh, kw] = required(node.kernelSize, node, 'kernelSize');
  const multiplier = required(node.depthMultiplier, node, 'depthMultiplier');
  const depthwise = kh * kw * inChannels * multiplier;
  const pointwise = inChannels * multiplier * outChannels;
  const bias = required(node.useBias, node, 'useBias') ? outChannels : 0;
  return { params: depthwise + pointwise + bias, macs: outputPositions(node) * (depthwise + pointwise) };
}

function producerCost(node: LayerNode, input: InputWidth, outChannels: number): LayerCost {
  switch (node.className) {
    case 'Conv2D':
      return convCost(node, input.channels, outChannels);
    case 'Dense':
      return denseCost(node, input, outChannels);
    case 'SeparableConv2D':
      return separableCost(node, input.channels, outChannels);
    default:
      throw new Error(`Layer "${node.name}": no cost model for producer class ${node.className}`);
  }
}

/**
 * Parameters and multiply-accumulates (one example) of a layer with the given kept input and
 * output channel counts. Only Conv2D, Dense, DepthwiseConv2D and SeparableConv2D count MACs;
 * bias adds, BatchNormalization, pooling, activations and merges count 0 MACs; frozen layers
 * keep their parameters and count 0 MACs.
 */
export function layerCost(node: LayerNode, inputs: readonly InputWidth[], outChannels: number): LayerCost {
  switch (node.role) {
    case 'producer':
      return producerCost(node, inputs[0], outChannels);
    case 'depthwise':
      return depthwiseCost(node, inputs[0].channels);
    case 'normalization':
      return { params: required(node.paramsPerChannel, node, 'paramsPerChannel') * outChannels, macs: 0 };
    case 'frozen':
      return { params: node.fixedParams ?? 0, macs: 0 };
    default:
      return { params: 0, macs: 0 };
  }
}
