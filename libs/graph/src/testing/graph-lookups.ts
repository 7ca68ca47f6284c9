import assert from 'node:assert/strict';
import type { ChannelGraph, ChannelGroup, LayerNode } from '../channel-graph';

/** The graph's node of that name; fails the test when there is none. */
export function layer(graph: ChannelGraph, name: string): LayerNode {
  const node = graph.layers.find((l) => l.name === name);
  assert.ok(node, `layer ${name}`);
  return node;
}

/** The group holding channel `channel` of node `name`. */
export function groupOf(graph: ChannelGraph, name: string, channel: number): ChannelGroup {
  return graph.groups[layer(graph, name).channelGroups[channel]];
}

/** Members as `layer/channel:kind>injection`. */
export function memberNames(group: ChannelGroup): string[] {
  return group.members.map((m) => `${m.layer}/${m.channel}:${m.kind}${m.injectionLayer ? `>${m.injectionLayer}` : ''}`);
}
