import type { ChannelGraph, LayerNode } from './channel-graph';
import { layerCost } from './layer-cost';

const UNIT_ROLES: ReadonlySet<LayerNode['role']> = new Set(['producer', 'depthwise', 'attention', 'attention-heads']);

/** Size of a model: parameters, multiply-accumulates per example, and unit channels. */
export interface ModelCost {
  /** Every weight, trainable or not; equals `model.countParams()` of the pruned model. */
  params: number;
  /**
   * Multiply-accumulates of one forward pass for one example. Counted: Conv2D
   * (Hout*Wout*kh*kw*Cin*Cout), Dense (positions*in*out), DepthwiseConv2D (Hout*Wout*kh*kw*Cin*m),
   * SeparableConv2D (depthwise + Hout*Wout*Cin*m*Cout), MultiHeadAttention with h heads of key
   * size k and value size v on T tokens of d channels (T*d*h*(2k+v) + h*T*T*(k+v) + T*h*v*out).
   * Not counted (0): bias adds, normalizations, token layers, softmax, activations, pooling,
   * merges, embedding lookups and frozen layers.
   */
  macs: number;
  /** Units: output channels of producer, depthwise and attention layers and attention heads, output layers included. */
  channels: number;
}

function checkRemovable(graph: ChannelGraph, removedGroups: ReadonlySet<number>): void {
  for (const index of removedGroups) {
    const group = graph.groups[index];
    if (group === undefined) throw new Error(`Cannot remove group ${index}: the graph has ${graph.groups.length} groups`);
    if (!group.prunable) throw new Error(`Cannot remove group ${index} (${group.id}): ${group.frozenReason ?? 'not prunable'}`);
  }
}

function keptChannels(layer: LayerNode, removedGroups: ReadonlySet<number>): number {
  return layer.channelGroups.reduce((kept, group) => kept + (removedGroups.has(group) ? 0 : 1), 0);
}

/**
 * The cost of the model as it would be after removing `removedGroups` (indices into
 * `graph.groups`), computed from the graph alone.
 */
export function modelCost(graph: ChannelGraph, removedGroups: ReadonlySet<number> = new Set()): ModelCost {
  checkRemovable(graph, removedGroups);
  const kept = new Map<string, number>();
  const spatialSize = new Map<string, number>();
  const total: ModelCost = { params: 0, macs: 0, channels: 0 };
  for (const layer of graph.layers) {
    const outChannels = keptChannels(layer, removedGroups);
    kept.set(layer.name, outChannels);
    spatialSize.set(layer.name, layer.spatialSize ?? 1);
    const inputs = layer.inputs.map((name) => ({ channels: kept.get(name) ?? 0, spatialSize: spatialSize.get(name) ?? 1 }));
    const cost = layerCost(layer, inputs, outChannels);
    if (Number.isNaN(cost.macs)) {
      throw new Error(`Layer "${layer.name}" has an unknown output size ${JSON.stringify(layer.outputShape)}: MACs need fixed shapes`);
    }
    total.params += cost.params;
    total.macs += cost.macs;
    if (UNIT_ROLES.has(layer.role)) total.channels += outChannels;
  }
  return total;
}
