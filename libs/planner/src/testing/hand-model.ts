import type { ChannelGraph, ChannelGroup, LayerNode, ModelCost } from '@ippro/graph';
import type { CostFunction } from '../cost-function';

/** A producer layer of a hand-built model. */
export interface HandLayer {
  name: string;
  width: number;
  /** Parameters one output channel costs in the hand cost model. Default 1. */
  params?: number;
  /** MACs one output channel costs in the hand cost model. Default 1. */
  macs?: number;
}

/** Channel c of every listed layer feeds channel c of one Add named `anchor`. */
export interface HandResidual {
  anchor: string;
  layers: string[];
}

export interface HandModelSpec {
  /** Producers in model order; the last one is the model's output layer. */
  layers: HandLayer[];
  residuals?: HandResidual[];
}

/** A hand-built graph and an additive cost model for it: each kept unit channel costs its layer's rates. */
export interface HandModel {
  graph: ChannelGraph;
  cost: CostFunction;
}

function producerNode(layer: HandLayer, input: string): LayerNode {
  return {
    name: layer.name,
    className: 'Dense',
    role: 'producer',
    inputs: [input],
    outputShape: [layer.width],
    outputChannels: layer.width,
    channelGroups: [],
  };
}

function addGroup(graph: ChannelGraph, id: string, layers: readonly string[], channel: number, extra: string[]): void {
  const index = graph.groups.length;
  const group: ChannelGroup = {
    id,
    index,
    kind: 'channel',
    members: layers.map((layer) => ({ layer, channel, kind: 'kernel', injectionLayer: layer })),
    channels: [...layers, ...extra].map((layer) => ({ layer, channel })),
    prunable: true,
  };
  graph.groups.push(group);
  for (const layer of [...layers, ...extra]) {
    const node = graph.layers.find((candidate) => candidate.name === layer);
    if (node) {
      node.channelGroups[channel] = index;
    }
  }
}

function addResidual(graph: ChannelGraph, residual: HandResidual): void {
  const widths = residual.layers.map((name) => graph.layers.find((l) => l.name === name)?.outputChannels ?? 0);
  const width = widths[0];
  // The Add comes right after the last layer it joins, keeping the layers in model order.
  const after = Math.max(...residual.layers.map((name) => graph.layers.findIndex((l) => l.name === name)));
  graph.layers.splice(after + 1, 0, {
    name: residual.anchor,
    className: 'Add',
    role: 'elementwise',
    inputs: [...residual.layers],
    outputShape: [width],
    outputChannels: width,
    channelGroups: [],
  });
  for (let channel = 0; channel < width; channel += 1) {
    addGroup(graph, `${residual.anchor}:${channel}`, residual.layers, channel, [residual.anchor]);
  }
}

function handGraph(spec: HandModelSpec): ChannelGraph {
  const output = spec.layers[spec.layers.length - 1].name;
  const graph: ChannelGraph = { modelName: 'hand', layers: [], groups: [], outputLayers: [output] };
  let previous = 'input';
  const input = producerNode({ name: 'input', width: 2 }, '');
  graph.layers.push({ ...input, role: 'input', inputs: [], className: 'InputLayer' });
  for (const layer of spec.layers) {
    graph.layers.push(producerNode(layer, previous));
    previous = layer.name;
  }
  const coupled = new Set((spec.residuals ?? []).flatMap((r) => r.layers));
  for (const layer of [{ name: 'input', width: 2 }, ...spec.layers].filter((l) => !coupled.has(l.name))) {
    for (let channel = 0; channel < layer.width; channel += 1) {
      addGroup(graph, `${layer.name}:${channel}`, [layer.name], channel, []);
    }
  }
  (spec.residuals ?? []).forEach((residual) => addResidual(graph, residual));
  for (const group of graph.groups) {
    const frozen = group.members.find((m) => m.layer === 'input' || m.layer === output);
    if (frozen) {
      group.prunable = false;
      group.frozenReason = frozen.layer === 'input' ? 'model input' : 'output layer';
      // An input channel has no weights, so nothing owns it.
      group.members = frozen.layer === 'input' ? [] : group.members;
    }
  }
  return graph;
}

function handCost(spec: HandModelSpec): CostFunction {
  const rates = new Map(spec.layers.map((layer) => [layer.name, layer]));
  return (graph: ChannelGraph, removed: ReadonlySet<number>): ModelCost => {
    const cost: ModelCost = { params: 0, macs: 0, channels: 0 };
    for (const layer of graph.layers) {
      const rate = rates.get(layer.name);
      if (!rate) {
        continue;
      }
      const kept = layer.channelGroups.filter((group) => !removed.has(group)).length;
      cost.params += kept * (rate.params ?? 1);
      cost.macs += kept * (rate.macs ?? 1);
      cost.channels += kept;
    }
    return cost;
  };
}

/**
 * Builds a small ChannelGraph by hand: an input, the given Dense-like producers in a chain,
 * one group per producer channel (or per residual channel, spanning every coupled layer), the
 * last layer as the frozen output. Group ids follow the graph's `${anchor}:${channel}` rule.
 */
export function handModel(spec: HandModelSpec): HandModel {
  return { graph: handGraph(spec), cost: handCost(spec) };
}

/** Scores from a list of [group id, score]; handy for writing tests as tables. */
export function scoresOf(entries: readonly (readonly [string, number])[]): Record<string, number> {
  return Object.fromEntries(entries);
}
