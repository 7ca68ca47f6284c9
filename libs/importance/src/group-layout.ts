import type { LayersModel } from '@tensorflow/tfjs-layers';
import { isUnitMember, unitNodeName, type ChannelGraph, type ChannelGroup, type GroupMember } from '@ippro/graph';
import type { InjectionPoint } from './grad-stats';
import { requireLayer } from './layer-weights';
import type { WeightSlice } from './unit-slices';
import { unitWeightSlices } from './unit-slices';

/** One channel of an injection-point tensor. */
export interface InjectionChannel {
  layer: string;
  channel: number;
}

/** Where a group's F_g comes from and where its scale s_g is injected. */
export interface GroupLayout {
  group: ChannelGroup;
  /** The unit members' weight slices in member order; their concatenation is F_g. */
  slices: WeightSlice[];
  fSize: number;
  /** Distinct injection channels of the unit members, in member order. */
  injection: InjectionChannel[];
}

/** The graph node whose output a unit's scale multiplies (for a head: the heads node, before the output projection). */
function injectionLayerOf(member: GroupMember, point: InjectionPoint): string {
  return point === 'producer' ? unitNodeName(member) : (member.injectionLayer ?? unitNodeName(member));
}

function injectionChannels(group: ChannelGroup, point: InjectionPoint): InjectionChannel[] {
  const seen = new Set<string>();
  const channels: InjectionChannel[] = [];
  for (const member of group.members.filter(isUnitMember)) {
    const layer = injectionLayerOf(member, point);
    const key = `${layer}\u0000${member.channel}`;
    // Two units sharing one injection channel would otherwise count its r twice.
    if (!seen.has(key)) {
      seen.add(key);
      channels.push({ layer, channel: member.channel });
    }
  }
  return channels;
}

/**
 * Activations f with f(s*y) = s*f(y) for s > 0: scaling a fused producer's activated output
 * then has the same derivative as scaling its pre-activation y_u (IPPRO.md §1).
 */
const HOMOGENEOUS_ACTIVATIONS = new Set(['linear', 'relu']);

/**
 * The non-homogeneous activation fused into a unit's layer when the unit is injected at that
 * layer's own output (which then is not y_u), else undefined.
 */
export function hidingFusedActivation(model: LayersModel, member: GroupMember, point: InjectionPoint = 'element-wise'): string | undefined {
  if (!isUnitMember(member) || injectionLayerOf(member, point) !== member.layer) {
    return undefined;
  }
  const activation = requireLayer(model, member.layer).getConfig()['activation'];
  return typeof activation === 'string' && !HOMOGENEOUS_ACTIVATIONS.has(activation) ? activation : undefined;
}

/** A unit injected at its own output must not hide a non-homogeneous fused activation. */
function checkInjectionActivation(model: LayersModel, member: GroupMember, point: InjectionPoint): void {
  const activation = hidingFusedActivation(model, member, point);
  if (activation !== undefined) {
    throw new Error(
      `unit layer '${member.layer}' has a fused '${activation}' activation: its output is not the injection point y_u of IPPRO.md §1; use a separate activation layer`,
    );
  }
}

/**
 * Checks every unit of the group can be injected at its injection layer's output. An MLP
 * neuron is scaled after its activation by definition (docs/ippro.md section 2), so its fused
 * gelu is where its scale belongs.
 */
export function checkInjectionPoints(model: LayersModel, group: ChannelGroup, point: InjectionPoint = 'element-wise'): void {
  if (group.kind === 'mlp') return;
  group.members.filter(isUnitMember).forEach((member) => checkInjectionActivation(model, member, point));
}

/** The layout of one group, reading weight shapes from the model. */
export function layoutGroup(
  model: LayersModel,
  group: ChannelGroup,
  includeBias: boolean,
  point: InjectionPoint = 'element-wise',
): GroupLayout {
  const slices = group.members
    .filter(isUnitMember)
    .flatMap((member) => unitWeightSlices(requireLayer(model, member.layer), member, includeBias));
  const fSize = slices.reduce((total, slice) => total + slice.indices.length, 0);
  return { group, slices, fSize, injection: injectionChannels(group, point) };
}

/** The graph's group of that id, or an error naming the unknown id. */
export function requireGroup(graph: ChannelGraph, id: string): ChannelGroup {
  const group = graph.groups.find((candidate) => candidate.id === id);
  if (group === undefined) {
    throw new Error(`group '${id}' is not in the channel graph of model '${graph.modelName}'`);
  }
  return group;
}

/**
 * The groups to score: the requested ids (in graph order, each checked to exist and be
 * prunable), or every prunable group.
 */
export function selectGroups(graph: ChannelGraph, ids?: readonly string[]): ChannelGroup[] {
  if (ids === undefined) {
    return graph.groups.filter((group) => group.prunable);
  }
  const wanted = new Set(ids);
  if (wanted.size !== ids.length) {
    throw new Error('the list of groups to score contains duplicates');
  }
  for (const id of wanted) {
    const group = requireGroup(graph, id);
    if (!group.prunable) {
      throw new Error(`group '${id}' is not prunable (${group.frozenReason ?? 'frozen'}); it is never scored`);
    }
  }
  return graph.groups.filter((group) => wanted.has(group.id));
}
