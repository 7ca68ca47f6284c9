import type { GroupMember } from '@ippro/graph';

export type ScoreMethod = 'proscore' | 'l1' | 'l2' | 'taylor' | 'bn_scale' | 'random';

/** One scored group. Lower scores are removed first. */
export interface ScoreRow {
  id: string;
  /** The group's position in the channel graph (the tie-break when ranking). */
  index: number;
  members: GroupMember[];
  score: number;
  /** PROscore only: ||F_g||. */
  fNorm?: number;
  /** PROscore only: r_g (mean over samples). */
  r?: number;
  /** PROscore only: dL/dD_g = -r_g / ||F_g||; null for a dead group (||F_g|| = 0). */
  dLdD?: number | null;
}

/** Scores of prunable groups in graph order. Unprunable groups never appear. */
export interface ScoreTable {
  method: ScoreMethod;
  rows: ScoreRow[];
}

/** Group ids in removal order: ascending score, ties broken by graph position. */
export function rankGroups(table: ScoreTable): string[] {
  return [...table.rows].sort((a, b) => a.score - b.score || a.index - b.index).map((row) => row.id);
}
