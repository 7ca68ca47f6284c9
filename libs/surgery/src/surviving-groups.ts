import type { ChannelGraph, ChannelGroup, LayerNode } from '@ippro/graph';
import { keptChannelsPerLayer } from './kept-channels';
import { resolveRemovedGroups, type GroupSelection } from './removed-groups';
import { SurgeryError } from './surgery-error';

/** Per layer: original output channel -> its index in the pruned layer. */
type ChannelRenumbering = Map<string, Map<number, number>>;

function renumbering(graph: ChannelGraph, removed: ReadonlySet<number>): ChannelRenumbering {
  const renumbered: ChannelRenumbering = new Map();
  for (const [layer, kept] of keptChannelsPerLayer(graph, removed)) {
    renumbered.set(layer, new Map(kept.outputs.map((original, index) => [original, index])));
  }
  return renumbered;
}

/** The pruned graph's group holding all of `group`'s surviving channels, which must agree. */
function prunedGroupOf(
  group: ChannelGroup,
  renumbered: ChannelRenumbering,
  prunedGraph: ChannelGraph,
  prunedLayers: ReadonlyMap<string, LayerNode>,
): string {
  const ids = new Set(
    group.channels.map((ref) => {
      const channel = renumbered.get(ref.layer)?.get(ref.channel);
      const groupIndex = channel === undefined ? undefined : prunedLayers.get(ref.layer)?.channelGroups[channel];
      if (groupIndex === undefined) {
        throw new SurgeryError(`channel ${ref.channel} of layer '${ref.layer}' (group '${group.id}') is missing from the pruned graph`);
      }
      return prunedGraph.groups[groupIndex].id;
    }),
  );
  if (ids.size !== 1) {
    throw new SurgeryError(`group '${group.id}' maps to ${ids.size} groups of the pruned graph (${[...ids].join(', ')})`);
  }
  return [...ids][0];
}

/**
 * Channel indices shift when channels before them are removed, so the group ids of the
 * original graph do not name the same groups in the graph of the pruned model. Given the
 * original graph, the groups removed from it, and the graph built from the pruned model, this
 * returns, for every surviving group of the original graph, its id in the pruned graph.
 */
export function survivingGroupIds(
  graph: ChannelGraph,
  removed: GroupSelection,
  prunedGraph: ChannelGraph,
): Map<string, string> {
  const removedIndices = resolveRemovedGroups(graph, removed);
  const renumbered = renumbering(graph, removedIndices);
  const prunedLayers = new Map(prunedGraph.layers.map((node) => [node.name, node]));
  const surviving = new Map<string, string>();
  for (const group of graph.groups) {
    if (removedIndices.has(group.index) || group.channels.length === 0) continue;
    surviving.set(group.id, prunedGroupOf(group, renumbered, prunedGraph, prunedLayers));
  }
  return surviving;
}
