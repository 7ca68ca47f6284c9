import { GROUP_KINDS, type ChannelGraph, type GroupKind } from '@ippro/graph';
import type { Ranking } from './candidate-ranking';
import type { GroupScores } from './group-scores';
import type { PruningTarget } from './pruning-target';
import type { RemovalSchedule } from './removal-schedule';

export interface PlanRemovalInput {
  /** The ORIGINAL model's graph; earlier rounds are described by `removedGroupIds`. */
  graph: ChannelGraph;
  /** Importance per group id; only prunable groups are candidates; +Infinity keeps a group. */
  scores: GroupScores;
  /** Fraction of the original metric to remove by the end of the run. */
  target: PruningTarget;
  /** Groups removed in earlier rounds. Default none. */
  removedGroupIds?: readonly string[];
  /** 1-based. */
  round: number;
  rounds: number;
  /** Default 'linear'. */
  schedule?: RemovalSchedule;
  /** Default 'global'. */
  ranking?: Ranking;
  /** Default 0.9. */
  maxLayerRatio?: number;
  /** Default 1. */
  minChannels?: number;
  /** Keep widths a multiple of this where possible (see removalChunk). Default 1: no rounding. */
  roundTo?: number;
  /** Layers whose groups are never removed; the model's output layers always are. */
  ignoredLayers?: readonly string[];
  /** The kinds of group this run may remove (channel, head, mlp, embedding). Default all. */
  groupKinds?: readonly GroupKind[];
}

/** The input with defaults filled in and every option checked. */
export type ResolvedPlanRemovalInput = Required<PlanRemovalInput>;

function requireInteger(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new Error(`${name} must be an integer >= ${minimum}, got ${String(value)}`);
  }
}

function requireKnownLayers(graph: ChannelGraph, layers: readonly string[]): void {
  const known = new Set(graph.layers.map((layer) => layer.name));
  const unknown = layers.filter((layer) => !known.has(layer));
  if (unknown.length > 0) {
    throw new Error(`ignoredLayers name layers that are not in the graph: ${unknown.join(', ')}`);
  }
}

function requireGroupKinds(kinds: readonly GroupKind[]): void {
  const unknown = kinds.filter((kind) => !GROUP_KINDS.includes(kind));
  if (!Array.isArray(kinds) || kinds.length === 0 || unknown.length > 0) {
    throw new Error(`groupKinds must list some of ${GROUP_KINDS.join(', ')}, got ${JSON.stringify(kinds)}`);
  }
}

export function resolvePlanRemovalInput(input: PlanRemovalInput): ResolvedPlanRemovalInput {
  const resolved: ResolvedPlanRemovalInput = {
    removedGroupIds: [],
    schedule: 'linear',
    ranking: 'global',
    maxLayerRatio: 0.9,
    minChannels: 1,
    roundTo: 1,
    ignoredLayers: [],
    groupKinds: GROUP_KINDS,
    ...withoutUndefined(input),
  };
  const { maxLayerRatio } = resolved;
  if (typeof maxLayerRatio !== 'number' || !(maxLayerRatio >= 0 && maxLayerRatio <= 1)) {
    throw new Error(`maxLayerRatio must be a number from 0 to 1, got ${String(maxLayerRatio)}`);
  }
  requireInteger('minChannels', resolved.minChannels, 1);
  requireInteger('roundTo', resolved.roundTo, 1);
  requireKnownLayers(resolved.graph, resolved.ignoredLayers);
  requireGroupKinds(resolved.groupKinds);
  return resolved;
}

/** An explicit `undefined` option means "use the default", as it does for a missing one. */
function withoutUndefined(input: PlanRemovalInput): PlanRemovalInput {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as PlanRemovalInput;
}
