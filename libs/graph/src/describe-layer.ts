import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerNode, LayerRole } from './channel-graph';
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
  if (node.className !== 'Dense') expectNotFlattened(inputs, node.className);
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

function describeNormalization(node: LayerNode, inputs: LayerNode[], config: LayerConfig, layer: tfl.layers.Layer): void {
  expectInputCount(inputs, 1);
  expectNotFlattened(inputs, 'BatchNormalization');
  if (!isLastAxis(readAxis(config, 'axis', node.name), node.outputShape.length)) {
    throw new UnsupportedLayer('normalizes an axis other than the channel axis');
  }
  expectChannels(node.outputChannels, inputs[0].outputChannels, 'BatchNormalization output');
  node.paramsPerChannel = layer.weights.length;
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
      describeNormalization(node, inputs, config, call.layer);
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
function checkParameterCount(node: LayerNode, inputs: LayerNode[], layer: tfl.layers.Layer): void {
  const modelled = layerCost(node, inputs.map(widthOf), node.outputChannels).params;
  const actual = layer.countParams();
  if (modelled !== actual) {
    throw new UnsupportedLayer(`has ${actual} parameters but the channel cost model expects ${modelled}`);
  }
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
 * Describes one layer: its role, channel count and cost geometry (channelGroups left empty).
 * Throws UnsupportedLayer when the graph cannot follow its channels; the message is a clause
 * about the layer ("has an unknown layer class (Reshape)", "is shared (called 2 times)").
 */
export function describeLayer(layer: tfl.layers.Layer, context: LayerContext): LayerNode {
  const call = context.calls[0];
  const node = baseNode(layer, call);
  const role = roleOfClass(node.className);
  if (role === undefined) throw new UnsupportedLayer(`has an unknown layer class (${node.className})`);
  if (context.calls.length > 1) throw new UnsupportedLayer(`is shared (called ${context.calls.length} times)`);
  if (call.node.outputTensors.length !== 1) throw new UnsupportedLayer(`has ${call.node.outputTensors.length} outputs`);
  if (role !== 'input' && node.outputChannels <= 0) throw new UnsupportedLayer('has an unknown channel count');
  const inputs = inputNodes(call, context);
  node.role = describeByRole(role, node, inputs, call, context);
  if (node.role !== 'frozen') checkParameterCount(node, inputs, layer);
  return node;
}

/** The node of a layer the graph does not follow: all its channels are frozen. */
export function frozenNode(layer: tfl.layers.Layer, context: LayerContext, reason: string): LayerNode {
  const node = baseNode(layer, context.calls[0]);
  node.frozenReason = reason;
  node.fixedParams = layer.countParams();
  return node;
}
