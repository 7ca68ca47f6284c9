import type { ChannelGroup, GroupMember } from '@ippro/graph';

export type ScoreMethod =
  | 'proscore'
  | 'l1'
  | 'l2'
  | 'taylor'
  | 'taylor-batch'
  | 'fisher'
  | 'bn_scale'
  | 'group-norm'
  | 'lamp'
  | 'fpgm'
  | 'random';

/**
 * How PROscore is read (docs/ippro.md §3): from the pooled gradient of the scoring set, averaged
 * over each batch's own score, or after T real optimizer steps.
 */
export type ProscoreReading = 'pooled' | 'per-batch' | 'trajectory';

/**
 * Which end of a criterion goes first. 'descending' tables hold the negated scores, so that
 * ascending order (the planner's, rankGroups') removes the highest original score first.
 */
export type RemovalOrder = 'ascending' | 'descending';

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
  /** PROscore only: the reading the scores come from. */
  reading?: ProscoreReading;
  /** PROscore only: 'descending' when the rows hold negated scores (highest PROscore removed first). */
  order?: RemovalOrder;
}

/** The row of a group with its score. */
export function scoreRow(group: ChannelGroup, score: number): ScoreRow {
  return { id: group.id, index: group.index, members: group.members, score };
}

/** Group ids in removal order: ascending score, ties broken by graph position. */
export function rankGroups(table: ScoreTable): string[] {
  return [...table.rows].sort((a, b) => a.score - b.score || a.index - b.index).map((row) => row.id);
}
