import { isUnitMember, unitNodeName, type ChannelGroup } from '@ippro/graph';

/** Unit channels a group removes from each layer it is "in", keyed by layer name. */
export type LayerChannelCounts = ReadonlyMap<string, number>;

/**
 * The layers a group is "in" and how many of their output channels it takes. Only unit
 * members (kernel/depthwise/head) count: batch-norm and other per-channel members follow their
 * producer and would otherwise count the same channels twice. A residual group is in every
 * branch producer; a head is in its attention's heads node (`<layer>/heads`), whose width is
 * the number of heads.
 */
export function unitChannelsByLayer(group: ChannelGroup): LayerChannelCounts {
  const counts = new Map<string, number>();
  for (const member of group.members.filter(isUnitMember)) {
    const node = unitNodeName(member);
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}

/** Every layer a group touches, through a member or any of its channels. */
export function layersTouched(group: ChannelGroup): Set<string> {
  return new Set([...group.members.map((m) => m.layer), ...group.channels.map((c) => c.layer)]);
}
