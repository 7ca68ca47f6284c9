import type { ChannelGraph, LayerRole } from './channel-graph';
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

/** A JSON-friendly summary of a channel graph. */
export interface GraphSummary {
  modelName: string;
  outputLayers: string[];
  groups: number;
  prunableGroups: number;
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

/** A JSON-friendly summary for `ippro inspect`: per layer its role, channels and prunable groups. */
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
  return {
    modelName: graph.modelName,
    outputLayers: [...graph.outputLayers],
    groups: graph.groups.length,
    prunableGroups: graph.groups.filter((group) => group.prunable).length,
    ...costOrReason(graph),
    layers,
  };
}
