import type { LayerChannelCounts } from './group-unit-layers';

/** A group that may be removed this round. */
export interface RemovalCandidate {
  index: number;
  id: string;
  score: number;
  /** Unit channels it takes from each layer it is in. */
  layers: LayerChannelCounts;
}

/** Lower score first; equal scores by group id in plain string (UTF-16 code unit) order. */
export function compareByScoreThenId(a: RemovalCandidate, b: RemovalCandidate): number {
  if (a.score !== b.score) {
    return a.score < b.score ? -1 : 1;
  }
  return compareIds(a.id, b.id);
}

/** Locale-independent, so every machine ranks ties the same way. */
export function compareIds(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}
