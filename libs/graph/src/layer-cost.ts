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

/** A lookup table: rows x channels parameters, no multiply-accumulates. */
function embeddingCost(node: LayerNode, outChannels: number): LayerCost {
  return { params: required(node.embeddingRows, node, 'embeddingRows') * outChannels, macs: 0 };
}

/**
 * The heads of a MultiHeadAttention, h of them kept, reading d input channels over T_q query and
 * T_k key tokens: the query, key and value projections (T_q d h k + T_k d h k + T_k d h v), the
 * scores (h T_q T_k k) and the weighted sum of the values (h T_q T_k v).
 */
function attentionHeadsCost(node: LayerNode, input: InputWidth, heads: number): LayerCost {
  const { keyDim, valueDim, queryTokens, keyTokens, useBias } = required(node.attention, node, 'attention');
  const perHead = 2 * keyDim + valueDim;
  const projections = queryTokens * input.channels * heads * keyDim + keyTokens * input.channels * heads * (keyDim + valueDim);
  const attention = heads * queryTokens * keyTokens * (keyDim + valueDim);
  return { params: input.channels * heads * perHead + (useBias ? heads * perHead : 0), macs: projections + attention };
}

/** The output projection of a MultiHeadAttention from h kept heads: T_q h v out. */
function attentionOutputCost(node: LayerNode, heads: InputWidth, outChannels: number): LayerCost {
  const { valueDim, queryTokens, useBias } = required(node.attention, node, 'attention');
  const weights = heads.channels * valueDim * outChannels;
  return { params: weights + (useBias ? outChannels : 0), macs: queryTokens * weights };
}

function producerCost(node: LayerNode, input: InputWidth, outChannels: number): LayerCost {
  switch (node.className) {
    case 'Embedding':
      return embeddingCost(node, outChannels);
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
 * output channel counts. Conv2D, Dense, DepthwiseConv2D, SeparableConv2D and MultiHeadAttention
 * count MACs; bias adds, BatchNormalization, LayerNormalization, token layers, softmax, pooling,
 * activations, merges and embedding lookups count 0 MACs; frozen layers keep their parameters
 * and count 0 MACs.
 */
export function layerCost(node: LayerNode, inputs: readonly InputWidth[], outChannels: number): LayerCost {
  switch (node.role) {
    case 'producer':
      return producerCost(node, inputs[0], outChannels);
    case 'depthwise':
      return depthwiseCost(node, inputs[0].channels);
    case 'attention-heads':
      return attentionHeadsCost(node, inputs[0], outChannels);
    case 'attention':
      return attentionOutputCost(node, inputs[0], outChannels);
    case 'normalization':
    case 'layer-normalization':
    case 'token':
      return { params: required(node.paramsPerChannel, node, 'paramsPerChannel') * outChannels, macs: 0 };
    case 'frozen':
      return { params: node.fixedParams ?? 0, macs: 0 };
    default:
      return { params: 0, macs: 0 };
  }
}
