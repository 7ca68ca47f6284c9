import type { ChannelGraph } from '@ippro/graph';
import { contiguousSplit } from '@ippro/workflow-core';

/**
 * Splits the prunable groups, in graph order, into contiguous sets of near-equal size:
 * contiguous sets keep a shard's groups in few layers, and graph order makes the split the
 * same on every executor.
 */
export function layerShards(graph: ChannelGraph, count: number): string[][] {
  const ids = graph.groups.filter((group) => group.prunable).map((group) => group.id);
  return contiguousSplit(ids.length, count, 'layer shard').map(({ start, end }) => ids.slice(start, end));
}
