import { GROUP_KINDS, isUnitMember, unitNodeName, type ChannelGraph, type GroupKind, type LayerRole } from './channel-graph';
import { modelCost, ModelCost } from './model-cost';

/** One layer as `ippro inspect` shows it. */
export interface LayerSummary {
  name: string;
  className: string;
  role: LayerRole;
  channels: number;
  /** Distinct prunable groups among the layer's output channels. */
  prunableGroups: number;
  frozenReason?: string;
}

/** One prunable group as `ippro inspect` lists it: what removing it alone saves. */
export interface GroupSummary {
  id: string;
  kind: GroupKind;
  /** The graph nodes its units are output channels of (`<attention>/heads` for a head). */
  unitLayers: string[];
  units: number;
  params: number;
  macs: number;
}

/** A JSON-friendly summary of a channel graph. */
export interface GraphSummary {
  modelName: string;
  outputLayers: string[];
  groups: number;
  prunableGroups: number;
  /** Prunable groups of each kind. */
  prunableByKind: Record<GroupKind, number>;
  /** Every prunable group with its own cost; null when the cost is unavailable. */
  groupCosts: GroupSummary[] | null;
  /** Null when the model has sizes the cost model cannot know (e.g. variable image size). */
  cost: ModelCost | null;
  costUnavailable?: string;
  layers: LayerSummary[];
}

function costOrReason(graph: ChannelGraph): Pick<GraphSummary, 'cost' | 'costUnavailable'> {
  try {
    return { cost: modelCost(graph) };
  } catch (error) {
    return { cost: null, costUnavailable: (error as Error).message };
  }
}

function groupCosts(graph: ChannelGraph, whole: ModelCost): GroupSummary[] {
  return graph.groups
    .filter((group) => group.prunable)
    .map((group) => {
      const without = modelCost(graph, new Set([group.index]));
      const units = group.members.filter(isUnitMember);
      return {
        id: group.id,
        kind: group.kind,
        unitLayers: [...new Set(units.map(unitNodeName))],
        units: units.length,
        params: whole.params - without.params,
        macs: whole.macs - without.macs,
      };
    });
}

/**
 * A JSON-friendly summary for `ippro inspect`: per layer its role, channels and prunable groups;
 * per prunable group its kind and what removing it saves.
 */
export function describeGraph(graph: ChannelGraph): GraphSummary {
  const layers = graph.layers.map((layer) => {
    const prunable = new Set(layer.channelGroups.filter((index) => graph.groups[index].prunable));
    const summary: LayerSummary = {
      name: layer.name,
      className: layer.className,
      role: layer.role,
      channels: layer.outputChannels,
      prunableGroups: prunable.size,
    };
    if (layer.frozenReason !== undefined) summary.frozenReason = layer.frozenReason;
    return summary;
  });
  const prunable = graph.groups.filter((group) => group.prunable);
  const cost = costOrReason(graph);
  return {
    modelName: graph.modelName,
    outputLayers: [...graph.outputLayers],
    groups: graph.groups.length,
    prunableGroups: prunable.length,
    prunableByKind: Object.fromEntries(GROUP_KINDS.map((kind) => [kind, prunable.filter((group) => group.kind === kind).length])) as Record<GroupKind, number>,
    ...cost,
    groupCosts: cost.cost === null ? null : groupCosts(graph, cost.cost),
    layers,
  };
}
