import type { ChannelGraph, ChannelGroup, GroupKind } from '@ippro/graph';
import { layersTouched, unitChannelsByLayer } from './group-unit-layers';
import type { RemovalCandidate } from './removal-candidate';

/** The groups this round may remove, and how many groups can never be removed. */
export interface CandidatePool {
  candidates: RemovalCandidate[];
  /** Not prunable, touching an ignored or output layer, of a kind the run does not remove, or scored +Infinity. */
  keptForGood: number;
}

function touchesAny(group: ChannelGroup, layers: ReadonlySet<string>): boolean {
  return [...layersTouched(group)].some((layer) => layers.has(layer));
}

/**
 * A prunable group not yet removed and not touching a protected layer must have a score:
 * a missing one means the scores belong to another graph or scoring skipped a group.
 */
export function eligibleCandidates(
  graph: ChannelGraph,
  scores: ReadonlyMap<number, number>,
  removed: ReadonlySet<number>,
  protectedLayers: ReadonlySet<string>,
  groupKinds: ReadonlySet<GroupKind>,
): CandidatePool {
  const candidates: RemovalCandidate[] = [];
  let keptForGood = 0;
  for (const group of graph.groups) {
    if (removed.has(group.index)) {
      continue;
    }
    if (!group.prunable || touchesAny(group, protectedLayers) || !groupKinds.has(group.kind)) {
      keptForGood += 1;
      continue;
    }
    const score = scores.get(group.index);
    if (score === undefined) {
      throw new Error(`prunable group ${group.id} has no score`);
    }
    if (score === Number.POSITIVE_INFINITY) {
      keptForGood += 1;
      continue;
    }
    candidates.push({ index: group.index, id: group.id, score, layers: unitChannelsByLayer(group) });
  }
  return { candidates, keptForGood };
}
