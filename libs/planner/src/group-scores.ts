import type { ChannelGraph } from '@ippro/graph';

/** Importance per group id: lower is removed first, +Infinity is never removed. */
export type GroupScores = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

function scoreEntries(scores: GroupScores): [string, number][] {
  return scores instanceof Map ? [...scores.entries()] : Object.entries(scores);
}

/** Map from group id to group index; also checks the ids are unique and indices consistent. */
export function groupIndexById(graph: ChannelGraph): Map<string, number> {
  const byId = new Map<string, number>();
  graph.groups.forEach((group, position) => {
    if (group.index !== position) {
      throw new Error(`graph group ${group.id} has index ${group.index} but sits at position ${position}`);
    }
    if (byId.has(group.id)) {
      throw new Error(`graph has two groups with id ${group.id}`);
    }
    byId.set(group.id, position);
  });
  return byId;
}

/**
 * Scores keyed by group index. Unknown ids and NaN scores are errors: either means the scores
 * were computed for a different graph or went wrong, and planning on them would be silently wrong.
 */
export function scoresByGroupIndex(scores: GroupScores, indexById: ReadonlyMap<string, number>): Map<number, number> {
  const byIndex = new Map<number, number>();
  for (const [id, score] of scoreEntries(scores)) {
    const index = indexById.get(id);
    if (index === undefined) {
      throw new Error(`scores name group ${JSON.stringify(id)}, which is not in the graph`);
    }
    if (typeof score !== 'number' || Number.isNaN(score)) {
      throw new Error(`score of group ${id} is ${String(score)}; scores must be numbers (+Infinity keeps a group)`);
    }
    byIndex.set(index, score);
  }
  return byIndex;
}
