import type { ChannelGraph } from '@ippro/graph';
import { seededRandom } from './seeded-random';

/**
 * A seeded random set of prunable groups, each taken with probability `fraction`, then
 * thinned so that every layer keeps at least one channel.
 */
export function randomRemoval(graph: ChannelGraph, seed: number, fraction: number): Set<number> {
  const random = seededRandom(seed);
  const removed = new Set(graph.groups.filter((group) => group.prunable && random() < fraction).map((group) => group.index));
  for (const layer of graph.layers) {
    if (layer.channelGroups.length > 0 && layer.channelGroups.every((group) => removed.has(group))) {
      removed.delete(layer.channelGroups[Math.floor(random() * layer.channelGroups.length)]);
    }
  }
  return removed;
}
