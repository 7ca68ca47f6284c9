import type * as tfl from '@tensorflow/tfjs-layers';
import { isTokenSequence, type ChannelGraph, type LayerNode } from './channel-graph';
import { assembleGroups } from './assemble-groups';
import { linkLayerChannels } from './channel-links';
import { ChannelSpace } from './channel-space';
import { describeLayer, frozenNode, LayerContext, UnsupportedLayer } from './describe-layer';
import { isPerElementClass } from './layer-classes';
import { ModelCall, readModelTopology } from './model-topology';

export interface BuildChannelGraphOptions {
  /**
   * What to do with a layer the graph cannot follow (unknown class, shared layer, unsupported
   * configuration): 'freeze' (default) keeps all channels it touches; 'error' throws.
   */
  unknownLayers?: 'freeze' | 'error';
}

/** The model's layers with their calls inside the model, in the order of their first call. */
function callsByLayer(calls: readonly ModelCall[]): Map<tfl.layers.Layer, ModelCall[]> {
  const byLayer = new Map<tfl.layers.Layer, ModelCall[]>();
  for (const call of calls) byLayer.set(call.layer, [...(byLayer.get(call.layer) ?? []), call]);
  return byLayer;
}

function describeAll(
  byLayer: Map<tfl.layers.Layer, ModelCall[]>,
  outputLayers: ReadonlySet<string>,
  options: BuildChannelGraphOptions,
): LayerNode[] {
  const described = new Map<string, LayerNode>();
  const sharedLayers = new Set([...byLayer].filter(([, calls]) => calls.length > 1).map(([layer]) => layer.name));
  for (const [layer, calls] of byLayer) {
    const context: LayerContext = { calls, described, sharedLayers, outputLayers };
    for (const node of describeOrFreeze(layer, context, options)) described.set(node.name, node);
  }
  return [...described.values()];
}

function describeOrFreeze(layer: tfl.layers.Layer, context: LayerContext, options: BuildChannelGraphOptions): LayerNode[] {
  try {
    return describeLayer(layer, context);
  } catch (error) {
    if (!(error instanceof UnsupportedLayer)) throw error;
    if (options.unknownLayers === 'error') {
      throw new Error(
        `Layer "${layer.name}" (class ${layer.getClassName()}) is not supported by the channel graph: it ${error.message}`,
      );
    }
    return [frozenNode(layer, context, error.message)];
  }
}

/** Each layer's consumers (one entry per consuming call input) and the model's output layers. */
function consumersOf(calls: readonly ModelCall[]): Map<string, string[]> {
  const consumers = new Map<string, string[]>();
  for (const call of calls) {
    for (const source of call.inputs) {
      consumers.set(source.layer.name, [...(consumers.get(source.layer.name) ?? []), call.layer.name]);
    }
  }
  return consumers;
}

/**
 * Unit node -> the node whose output is its injection point (docs/ippro.md section 2): the
 * BatchNormalization fed only by the unit; for a token-sequence Dense, the activation layer fed
 * only by it (an MLP neuron is scaled after its activation); from a producer, the chain of
 * Reshape and token layers (ClassToken, PositionEmbedding) each fed only by the previous one,
 * which makes a patch embedding's injection point the residual stream it starts; else the unit
 * itself (for heads: the heads node, scaled before the output projection).
 */
function injectionLayers(layers: readonly LayerNode[], calls: readonly ModelCall[], outputLayers: ReadonlySet<string>) {
  const consumers = consumersOf(calls);
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const onlyConsumer = (node: LayerNode): LayerNode | undefined => {
    const next = consumers.get(node.name) ?? [];
    return next.length === 1 && !outputLayers.has(node.name) ? byName.get(next[0]) : undefined;
  };
  const injection = new Map<string, string>();
  for (const layer of layers) {
    if (layer.role !== 'producer' && layer.role !== 'depthwise' && layer.role !== 'attention' && layer.role !== 'attention-heads') continue;
    let point = layer;
    const next = onlyConsumer(layer);
    if (next?.role === 'normalization') point = next;
    else if (next !== undefined && isPerElementClass(next.className) && isTokenSequence(layer) && layer.className === 'Dense') point = next;
    else {
      for (let chain = next; chain !== undefined && (chain.role === 'token' || chain.className === 'Reshape'); chain = onlyConsumer(chain)) {
        point = chain;
      }
    }
    injection.set(layer.name, point.name);
  }
  return injection;
}

function inputsOfAllCalls(byLayer: Map<tfl.layers.Layer, ModelCall[]>): Map<string, string[]> {
  const inputs = new Map<string, string[]>();
  for (const [layer, calls] of byLayer) {
    inputs.set(layer.name, calls.flatMap((call) => call.inputs.map((source) => source.layer.name)));
  }
  return inputs;
}

/**
 * Builds the channel dependency graph of a Sequential or functional LayersModel: which output
 * channels must be removed together (groups), which groups can be removed at all, and the
 * geometry the cost model needs.
 */
export function buildChannelGraph(model: tfl.LayersModel, options: BuildChannelGraphOptions = {}): ChannelGraph {
  const topology = readModelTopology(model);
  const outputLayers = [...new Set(topology.outputs.map((source) => source.layer.name))];
  const outputSet = new Set(outputLayers);
  const byLayer = callsByLayer(topology.calls);
  const layers = describeAll(byLayer, outputSet, options);
  const space = new ChannelSpace(layers);
  const allInputs = inputsOfAllCalls(byLayer);
  const channelsOf = new Map(layers.map((layer) => [layer.name, layer.outputChannels]));
  for (const layer of layers) {
    linkLayerChannels(space, layer, allInputs.get(layer.name) ?? [], (name) => channelsOf.get(name) ?? 0);
  }
  for (const name of outputLayers) space.freezeLayer(name, `touches the output of output layer "${name}"`);
  const groups = assembleGroups(space, injectionLayers(layers, topology.calls, outputSet));
  return { modelName: model.name, layers, groups, outputLayers };
}
