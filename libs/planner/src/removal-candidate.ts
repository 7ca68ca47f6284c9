import type { LayerChannelCounts } from './group-unit-layers';

/** A group that may be removed this round. */
export interface RemovalCandidate {
  index: number;
  id: string;
  score: number;
  /** Unit channels it takes from each layer it is in. */
  layers: LayerChannelCounts;
}

/** Lower score first; equal scores in graph order (group index), as docs/ippro.md §3 states. */
export function compareByScoreThenIndex(a: RemovalCandidate, b: RemovalCandidate): number {
  if (a.score !== b.score) {
    return a.score < b.score ? -1 : 1;
  }
  return a.index - b.index;
}
