import type * as tfl from '@tensorflow/tfjs-layers';
import { MultiHeadAttention } from '@ippro/layers';
import { headsNodeName, type AttentionGeometry, type LayerNode, type LayerRole } from './channel-graph';
import { isPerElementClass, roleOfClass } from './layer-classes';
import { LayerConfig, readActivation, readAxis, readBoolean, readPair, readPositiveInteger } from './layer-config';
import { InputWidth, layerCost } from './layer-cost';
import type { ModelCall } from './model-topology';

/** Thrown while describing a layer the graph cannot represent; the caller freezes it or fails. */
export class UnsupportedLayer extends Error {}

/** What the description of a layer needs to know besides the layer itself. */
export interface LayerContext {
  /** The layer's calls inside the model (more than one: a shared layer). */
  calls: ModelCall[];
  /** Already described nodes, by layer name. */
  described: ReadonlyMap<string, LayerNode>;
  /** Names of the layers called more than once inside the model. */
  sharedLayers: ReadonlySet<string>;
  /** Names of the layers whose output is a model output. */
  outputLayers: ReadonlySet<string>;
}

function shapeWithoutBatch(shape: readonly (number | null)[]): number[] {
  return shape.slice(1).map((size) => (size === null ? -1 : size));
}

function product(values: readonly number[]): number {
  return values.reduce((acc, v) => acc * v, 1);
}

function isLastAxis(axis: number, outputRank: number): boolean {
  return axis === -1 || axis === outputRank;
}

/** The input nodes of a single-call layer; refuses inputs the channel graph cannot follow. */
function inputNodes(call: ModelCall, context: LayerContext): LayerNode[] {
  return call.inputs.map((source) => {
    const node = context.described.get(source.layer.name);
    if (node === undefined) throw new Error(`Layer "${call.layer.name}" reads "${source.layer.name}" before it is computed`);
    if (source.tensorIndex !== 0) {
      throw new UnsupportedLayer(`reads output ${source.tensorIndex} of the multi-output layer "${source.layer.name}"`);
    }
    if (context.sharedLayers.has(source.layer.name)) {
      throw new UnsupportedLayer(`reads the shared layer "${source.layer.name}"`);
    }
    return node;
  });
}

function widthOf(node: LayerNode): InputWidth {
  return { channels: node.outputChannels, spatialSize: node.spatialSize ?? 1 };
}

function expectInputCount(inputs: LayerNode[], count: number): void {
  if (inputs.length !== count) throw new UnsupportedLayer(`expects ${count} input(s), has ${inputs.length}`);
}

function expectNotFlattened(inputs: LayerNode[], what: string): void {
  const flattened = inputs.find((input) => (input.spatialSize ?? 1) > 1);
  if (flattened !== undefined) throw new UnsupportedLayer(`cannot follow the flattened "${flattened.name}" (${what})`);
}

function expectChannels(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new UnsupportedLayer(`has ${actual} channels where ${expected} were expected (${what})`);
}

/** Kernel geometry and bias of the weight-owning layers, for the cost model. */
function weightGeometry(node: LayerNode, config: LayerConfig, layer: tfl.layers.Layer): void {
  if (node.className === 'Embedding') {
    node.embeddingRows = readPositiveInteger(config, 'inputDim', node.name);
    node.useBias = false;
    return;
  }
  if (node.className !== 'Dense') {
    node.kernelSize = readPair(config, 'kernelSize', node.name);
    node.strides = readPair(config, 'strides', node.name);
  }
  if (node.className === 'DepthwiseConv2D' || node.className === 'SeparableConv2D') {
    // tfjs 4.22 leaves depthMultiplier out of SeparableConv2D's config: read the layer itself.
    const own = (layer as unknown as { depthMultiplier?: unknown }).depthMultiplier;
    node.depthMultiplier = readPositiveInteger({ depthMultiplier: own ?? config['depthMultiplier'] }, 'depthMultiplier', node.name);
  }
  node.useBias = readBoolean(config, 'useBias', node.name);
}

function describeProducer(node: LayerNode, inputs: LayerNode[], config: LayerConfig, call: ModelCall, context: LayerContext): void {
  const layer = call.layer;
  expectInputCount(inputs, 1);
  if (node.className !== 'Dense' && node.className !== 'Embedding') expectNotFlattened(inputs, node.className);
  weightGeometry(node, config, layer);
  if (readActivation(config) === 'softmax' && !context.outputLayers.has(node.name)) {
    node.frozenReason = `the softmax activation of hidden layer "${node.name}" couples all its channels`;
  }
}

function describeDepthwise(node: LayerNode, inputs: LayerNode[], config: LayerConfig, layer: tfl.layers.Layer): void {
  expectInputCount(inputs, 1);
  expectNotFlattened(inputs, node.className);
  weightGeometry(node, config, layer);
  expectChannels(node.outputChannels, inputs[0].outputChannels * (node.depthMultiplier as number), 'depthwise output');
}

/**
 * BatchNormalization, LayerNormalization, ClassToken, PositionEmbedding: per-channel parameters
 * that follow the channel (a normalization's axis must be the channel axis).
 */
function describePerChannel(node: LayerNode, inputs: LayerNode[], config: LayerConfig, layer: tfl.layers.Layer): void {
  expectInputCount(inputs, 1);
  expectNotFlattened(inputs, node.className);
  if (!isLastAxis(readAxis(config, 'axis', node.name), node.outputShape.length)) {
    throw new UnsupportedLayer('normalizes an axis other than the channel axis');
  }
  expectChannels(node.outputChannels, inputs[0].outputChannels, `${node.className} output`);
  node.paramsPerChannel = layer.countParams() / node.outputChannels;
}

/** Softmax over the channel axis mixes every channel into every other. */
function isChannelSoftmax(node: LayerNode, config: LayerConfig): boolean {
  if (node.className === 'Activation') return readActivation(config) === 'softmax';
  if (node.className === 'Softmax') return isLastAxis(readAxis(config, 'axis', node.name), node.outputShape.length);
  return false;
}

function describePassthrough(node: LayerNode, inputs: LayerNode[], config: LayerConfig, context: LayerContext): LayerRole {
  expectInputCount(inputs, 1);
  const input = inputs[0];
  if ((input.spatialSize ?? 1) > 1) {
    if (!isPerElementClass(node.className)) throw new UnsupportedLayer(`cannot follow the flattened "${input.name}"`);
    node.spatialSize = input.spatialSize;
    node.outputChannels = input.outputChannels;
    expectChannels(product(node.outputShape), product(input.outputShape), 'per-element output features');
  }
  expectChannels(node.outputChannels, input.outputChannels, `${node.className} output`);
  if (isChannelSoftmax(node, config) && !context.outputLayers.has(node.name)) {
    node.frozenReason = 'applies softmax over the channel axis of a hidden layer, which couples all channels';
    return 'frozen';
  }
  return 'passthrough';
}

function describeElementwise(node: LayerNode, inputs: LayerNode[]): void {
  for (const input of inputs) {
    expectChannels(input.outputChannels, node.outputChannels, `input "${input.name}"`);
    if ((input.spatialSize ?? 1) !== (inputs[0].spatialSize ?? 1)) {
      throw new UnsupportedLayer(`has inputs "${inputs[0].name}" and "${input.name}" with different flattened layouts`);
    }
  }
  if (inputs[0].spatialSize !== undefined) node.spatialSize = inputs[0].spatialSize;
}

function describeConcatenate(node: LayerNode, inputs: LayerNode[], config: LayerConfig): void {
  if (!isLastAxis(readAxis(config, 'axis', node.name), node.outputShape.length)) {
    throw new UnsupportedLayer('concatenates along an axis other than the channel axis');
  }
  expectNotFlattened(inputs, 'Concatenate');
  const total = inputs.reduce((sum, input) => sum + input.outputChannels, 0);
  expectChannels(node.outputChannels, total, 'Concatenate output');
}

function describeFlatten(node: LayerNode, inputs: LayerNode[], call: ModelCall): void {
  expectInputCount(inputs, 1);
  const inputShape = shapeWithoutBatch(call.node.inputTensors[0].shape);
  if (inputShape.some((size) => size < 0)) throw new UnsupportedLayer('flattens an input of unknown size');
  node.outputChannels = inputs[0].outputChannels;
  node.spatialSize = product(inputShape) / node.outputChannels;
}

function describeByRole(role: LayerRole, node: LayerNode, inputs: LayerNode[], call: ModelCall, context: LayerContext): LayerRole {
  const config = call.layer.getConfig() as LayerConfig;
  if (config['dataFormat'] === 'channelsFirst') throw new UnsupportedLayer('uses data format channelsFirst');
  switch (role) {
    case 'producer':
      describeProducer(node, inputs, config, call, context);
      break;
    case 'depthwise':
      describeDepthwise(node, inputs, config, call.layer);
      break;
    case 'normalization':
    case 'layer-normalization':
    case 'token':
      describePerChannel(node, inputs, config, call.layer);
      break;
    case 'passthrough':
      return describePassthrough(node, inputs, config, context);
    case 'elementwise':
      describeElementwise(node, inputs);
      break;
    case 'concatenate':
      describeConcatenate(node, inputs, config);
      break;
    case 'flatten':
      describeFlatten(node, inputs, call);
      break;
    default:
      break;
  }
  return role;
}

/** The cost model must reproduce the layer's real parameter count, or the layer is not understood. */
function checkParameterCount(modelled: number, layer: tfl.layers.Layer): void {
  const actual = layer.countParams();
  if (modelled !== actual) {
    throw new UnsupportedLayer(`has ${actual} parameters but the channel cost model expects ${modelled}`);
  }
}

/** The attention configurations ippro prunes: self-attention over the tokens of [batch, tokens, d]. */
function checkPrunableAttention(layer: MultiHeadAttention, node: LayerNode, inputs: LayerNode[]): void {
  if (inputs.length !== 1) throw new UnsupportedLayer(`attends from one tensor to another (cross-attention over ${inputs.length} inputs)`);
  expectNotFlattened(inputs, 'MultiHeadAttention');
  if (node.outputShape.length !== 2) {
    throw new UnsupportedLayer(`attends over inputs of rank ${node.outputShape.length + 1}; ippro prunes attention over [batch, tokens, features]`);
  }
  const axes = layer.attentionAxesArg;
  if (axes !== null && !(axes.length === 1 && (axes[0] === 1 || axes[0] === -2))) {
    throw new UnsupportedLayer(`attends over axes [${axes.join(', ')}] rather than the tokens (axis 1)`);
  }
  if (layer.usesCausalMask) throw new UnsupportedLayer('uses a causal mask');
  if (!(node.outputShape[0] > 0)) throw new UnsupportedLayer('has an unknown number of tokens');
}

/**
 * A MultiHeadAttention is two nodes: its heads (`<layer>/heads`, role attention-heads, reading the
 * attention's input) and its output (role attention, reading the heads).
 */
function describeAttention(node: LayerNode, inputs: LayerNode[], call: ModelCall): LayerNode[] {
  const layer = call.layer;
  if (!(layer instanceof MultiHeadAttention)) throw new UnsupportedLayer('is not the MultiHeadAttention of @ippro/layers');
  checkPrunableAttention(layer, node, inputs);
  const tokens = node.outputShape[0];
  const geometry: AttentionGeometry = { keyDim: layer.keyDim, valueDim: layer.valueDim, queryTokens: tokens, keyTokens: tokens, useBias: layer.useBias };
  const heads: LayerNode = {
    name: headsNodeName(layer.name),
    ownerLayer: layer.name,
    className: node.className,
    role: 'attention-heads',
    inputs: node.inputs,
    outputShape: [tokens, layer.numHeads],
    outputChannels: layer.numHeads,
    channelGroups: [],
    attention: geometry,
  };
  Object.assign(node, { role: 'attention', inputs: [heads.name], attention: geometry });
  const modelled =
    layerCost(heads, inputs.map(widthOf), heads.outputChannels).params + layerCost(node, [widthOf(heads)], node.outputChannels).params;
  checkParameterCount(modelled, layer);
  return [heads, node];
}

function baseNode(layer: tfl.layers.Layer, call: ModelCall): LayerNode {
  const outputShape = shapeWithoutBatch(call.node.outputTensors[0].shape);
  return {
    name: layer.name,
    className: layer.getClassName(),
    role: 'frozen',
    inputs: call.inputs.map((source) => source.layer.name),
    outputShape,
    outputChannels: Math.max(outputShape.length > 0 ? outputShape[outputShape.length - 1] : 1, 0),
    channelGroups: [],
  };
}

/**
 * Describes one layer: its role, channel count and cost geometry (channelGroups left empty);
 * one node, or two for a MultiHeadAttention (its heads, then its output). Throws
 * UnsupportedLayer when the graph cannot follow its channels; the message is a clause about the
 * layer ("has an unknown layer class (Lambda)", "is shared (called 2 times)").
 */
export function describeLayer(layer: tfl.layers.Layer, context: LayerContext): LayerNode[] {
  const call = context.calls[0];
  const node = baseNode(layer, call);
  const role = roleOfClass(node.className);
  if (role === undefined) throw new UnsupportedLayer(`has an unknown layer class (${node.className})`);
  if (context.calls.length > 1) throw new UnsupportedLayer(`is shared (called ${context.calls.length} times)`);
  if (call.node.outputTensors.length !== 1) throw new UnsupportedLayer(`has ${call.node.outputTensors.length} outputs`);
  if (role !== 'input' && node.outputChannels <= 0) throw new UnsupportedLayer('has an unknown channel count');
  const inputs = inputNodes(call, context);
  if (role === 'attention') return describeAttention(node, inputs, call);
  node.role = describeByRole(role, node, inputs, call, context);
  if (node.role !== 'frozen') checkParameterCount(layerCost(node, inputs.map(widthOf), node.outputChannels).params, layer);
  return [node];
}

/** The node of a layer the graph does not follow: all its channels are frozen. */
export function frozenNode(layer: tfl.layers.Layer, context: LayerContext, reason: string): LayerNode {
  const node = baseNode(layer, context.calls[0]);
  node.frozenReason = reason;
  node.fixedParams = layer.countParams();
  return node;
}
