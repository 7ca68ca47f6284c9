import type { ChannelGroup, GroupMember, LayerNode, MemberKind } from './channel-graph';
import type { ChannelSpace } from './channel-space';

const MEMBER_KIND: Partial<Record<LayerNode['role'], MemberKind>> = {
  producer: 'kernel',
  depthwise: 'depthwise',
  normalization: 'batchnorm',
};

/** A channel id with the sort position of its member: its unit's layer, its own layer, channel. */
interface PlacedMember {
  member: GroupMember;
  ownerIndex: number;
  layerIndex: number;
}

function isUnit(kind: MemberKind): boolean {
  return kind !== 'batchnorm';
}

/** Channel ids per coupled set, sets in order of their first channel (layer order, channel). */
function coupledSets(space: ChannelSpace): number[][] {
  const setOfRoot = new Map<number, number[]>();
  const sets: number[][] = [];
  for (let id = 0; id < space.size; id++) {
    const root = space.root(id);
    let set = setOfRoot.get(root);
    if (set === undefined) {
      set = [];
      setOfRoot.set(root, set);
      sets.push(set);
    }
    set.push(id);
  }
  return sets;
}

function placeMembers(space: ChannelSpace, ids: number[], injectionLayers: ReadonlyMap<string, string>): PlacedMember[] {
  const layerIndexByName = new Map(space.layers.map((layer, index) => [layer.name, index]));
  const ownerOfInjection = new Map<string, number>();
  for (const [unit, injection] of injectionLayers) {
    if (unit !== injection) ownerOfInjection.set(injection, layerIndexByName.get(unit) as number);
  }
  const placed: PlacedMember[] = [];
  for (const id of ids) {
    const layerIndex = space.layerIndex(id);
    const layer = space.layers[layerIndex];
    const kind = MEMBER_KIND[layer.role];
    if (kind === undefined) continue;
    const member: GroupMember = { layer: layer.name, channel: space.channel(id), kind };
    if (isUnit(kind)) member.injectionLayer = injectionLayers.get(layer.name) ?? layer.name;
    placed.push({ member, ownerIndex: ownerOfInjection.get(layer.name) ?? layerIndex, layerIndex });
  }
  return placed.sort(
    (a, b) => a.ownerIndex - b.ownerIndex || a.layerIndex - b.layerIndex || a.member.channel - b.member.channel,
  );
}

/** The topologically first elementwise channel, else the first unit's, else the first channel. */
function anchorOf(space: ChannelSpace, ids: number[]): string {
  const elementwise = ids.find((id) => space.layers[space.layerIndex(id)].role === 'elementwise');
  if (elementwise !== undefined) return `${space.layers[space.layerIndex(elementwise)].name}:${space.channel(elementwise)}`;
  const unitIds = ids.filter((id) => isUnit(MEMBER_KIND[space.layers[space.layerIndex(id)].role] ?? 'batchnorm'));
  const first = unitIds.length > 0 ? unitIds[0] : ids[0];
  return `${space.layers[space.layerIndex(first)].name}:${space.channel(first)}`;
}

function frozenReasonOf(space: ChannelSpace, ids: number[], members: GroupMember[]): string | undefined {
  for (const id of ids) {
    const reason = space.freezeReason(id);
    if (reason !== undefined) return reason;
  }
  return members.some((m) => isUnit(m.kind)) ? undefined : 'no unit (kernel or depthwise channel) produces these channels';
}

/**
 * Turns the coupled channel sets into groups (ids, members, prunability) and fills each
 * layer's channelGroups.
 */
export function assembleGroups(space: ChannelSpace, injectionLayers: ReadonlyMap<string, string>): ChannelGroup[] {
  return coupledSets(space).map((ids, index) => {
    const members = placeMembers(space, ids, injectionLayers).map((placed) => placed.member);
    const frozenReason = frozenReasonOf(space, ids, members);
    for (const id of ids) space.layers[space.layerIndex(id)].channelGroups[space.channel(id)] = index;
    const group: ChannelGroup = {
      id: anchorOf(space, ids),
      index,
      members,
      channels: ids.map((id) => ({ layer: space.layers[space.layerIndex(id)].name, channel: space.channel(id) })),
      prunable: frozenReason === undefined,
    };
    if (frozenReason !== undefined) group.frozenReason = frozenReason;
    return group;
  });
}
