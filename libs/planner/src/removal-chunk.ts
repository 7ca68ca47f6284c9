import { addCounts, type LayerBudget } from './layer-budget';
import type { RemovalCandidate } from './removal-candidate';

/** What building a chunk needs to know about the round so far. */
export interface ChunkContext {
  budget: LayerBudget;
  /** Kept widths should be multiples of this; 1 means no rounding. */
  roundTo: number;
  /** Candidates in ranking order. */
  order: readonly RemovalCandidate[];
  /** Candidates this round has already chosen. */
  chosen: ReadonlySet<number>;
  /** Layer name to its position in the graph, so layers are aligned in model order. */
  layerPosition: ReadonlyMap<string, number>;
}

/**
 * The groups removed together when the greedy pass reaches `leader`, or undefined when the
 * leader must be skipped.
 *
 * The roundTo rule: once a layer's kept width is a multiple of N, it only moves to the next
 * lower multiple. Removing the leader pulls in the next candidates of each layer it unaligns, in
 * ranking order, until every touched layer is aligned again. If an aligned layer cannot be
 * realigned (the limits forbid the lower multiple, or no candidate fits exactly), the leader is
 * skipped. A layer that was not aligned to begin with is aligned when possible and otherwise
 * pruned group by group. With N = 1 a chunk is just the leader.
 */
export function removalChunk(leader: RemovalCandidate, context: ChunkContext): RemovalCandidate[] | undefined {
  const { budget } = context;
  if (!budget.allows(leader.layers)) {
    return undefined;
  }
  const chunk = [leader];
  const pending = new Map(leader.layers);
  const unalignable = new Set<string>();
  for (;;) {
    const layer = firstUnalignedLayer(pending, unalignable, context);
    if (layer === undefined) {
      return chunk;
    }
    const follower = nextFollower(layer, chunk, pending, context);
    if (follower) {
      chunk.push(follower);
      addCounts(pending, follower.layers);
    } else if (budget.keptAfter(layer) % context.roundTo === 0) {
      return undefined;
    } else {
      unalignable.add(layer);
    }
  }
}

function firstUnalignedLayer(
  pending: ReadonlyMap<string, number>,
  unalignable: ReadonlySet<string>,
  context: ChunkContext,
): string | undefined {
  const position = (layer: string): number => context.layerPosition.get(layer) ?? Number.MAX_SAFE_INTEGER;
  return [...pending.keys()]
    .filter((layer) => !unalignable.has(layer))
    .filter((layer) => context.budget.keptAfter(layer, pending) % context.roundTo !== 0)
    .sort((a, b) => position(a) - position(b))[0];
}

/** The next candidate in ranking order that brings `layer` down to its lower multiple without passing it. */
function nextFollower(
  layer: string,
  chunk: readonly RemovalCandidate[],
  pending: ReadonlyMap<string, number>,
  context: ChunkContext,
): RemovalCandidate | undefined {
  const { budget, roundTo } = context;
  const kept = budget.keptAfter(layer, pending);
  const aligned = Math.floor(kept / roundTo) * roundTo;
  if (aligned < budget.minKept(layer)) {
    return undefined;
  }
  return context.order.find(
    (candidate) =>
      !context.chosen.has(candidate.index) &&
      !chunk.includes(candidate) &&
      (candidate.layers.get(layer) ?? 0) > 0 &&
      (candidate.layers.get(layer) ?? 0) <= kept - aligned &&
      budget.allows(candidate.layers, pending),
  );
}
