import { isTokenSequence, isUnitKind, type ChannelGroup, type GroupKind, type GroupMember, type LayerNode, type MemberKind } from './channel-graph';
import type { ChannelSpace } from './channel-space';

const MEMBER_KIND: Partial<Record<LayerNode['role'], MemberKind>> = {
  producer: 'kernel',
  depthwise: 'depthwise',
  'attention-heads': 'head',
  attention: 'kernel',
  normalization: 'batchnorm',
  'layer-normalization': 'layernorm',
  token: 'token',
};

/** Roles whose channels are a transformer's residual stream (what LayerNormalization, tokens and attention output touch). */
const STREAM_ROLES: ReadonlySet<LayerNode['role']> = new Set(['elementwise', 'layer-normalization', 'token', 'attention']);

/** A channel id with the sort position of its member: its unit's layer, its own layer, channel. */
interface PlacedMember {
  member: GroupMember;
  ownerIndex: number;
  layerIndex: number;
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
    // A head belongs to its MultiHeadAttention layer (whose weights make it); its channel lives in the heads node.
    const member: GroupMember = { layer: layer.ownerLayer ?? layer.name, channel: space.channel(id), kind };
    if (isUnitKind(kind)) member.injectionLayer = injectionLayers.get(layer.name) ?? layer.name;
    placed.push({ member, ownerIndex: ownerOfInjection.get(layer.name) ?? layerIndex, layerIndex });
  }
  return placed.sort(
    (a, b) => a.ownerIndex - b.ownerIndex || a.layerIndex - b.layerIndex || a.member.channel - b.member.channel,
  );
}

/**
 * `head` when the group has a head; for groups reaching a token sequence ([tokens, channels]
 * per example): `embedding` when they pass through a residual Add, a LayerNormalization, a
 * token layer or an attention output, else `mlp`; otherwise `channel`.
 */
function kindOf(space: ChannelSpace, ids: number[], members: GroupMember[]): GroupKind {
  if (members.some((member) => member.kind === 'head')) return 'head';
  const nodes = ids.map((id) => space.layers[space.layerIndex(id)]);
  if (!nodes.some(isTokenSequence)) return 'channel';
  return nodes.some((node) => STREAM_ROLES.has(node.role)) ? 'embedding' : 'mlp';
}

/** The topologically first elementwise channel, else the first unit's, else the first channel. */
function anchorOf(space: ChannelSpace, ids: number[]): string {
  const elementwise = ids.find((id) => space.layers[space.layerIndex(id)].role === 'elementwise');
  if (elementwise !== undefined) return `${space.layers[space.layerIndex(elementwise)].name}:${space.channel(elementwise)}`;
  const unitIds = ids.filter((id) => isUnitKind(MEMBER_KIND[space.layers[space.layerIndex(id)].role] ?? 'batchnorm'));
  const first = unitIds.length > 0 ? unitIds[0] : ids[0];
  return `${space.layers[space.layerIndex(first)].name}:${space.channel(first)}`;
}

function frozenReasonOf(space: ChannelSpace, ids: number[], members: GroupMember[]): string | undefined {
  for (const id of ids) {
    const reason = space.freezeReason(id);
    if (reason !== undefined) return reason;
  }
  return members.some((m) => isUnitKind(m.kind)) ? undefined : 'no unit (kernel or depthwise channel) produces these channels';
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
      kind: kindOf(space, ids, members),
      members,
      channels: ids.map((id) => ({ layer: space.layers[space.layerIndex(id)].name, channel: space.channel(id) })),
      prunable: frozenReason === undefined,
    };
    if (frozenReason !== undefined) group.frozenReason = frozenReason;
    return group;
  });
}
