/**
 * What the HTML report shows, recorded by a run: small JSON written next to the run's results
 * (`report.json`), so a report can be rendered again at any time without the run's artifacts.
 */

/** The scores the report plots for every group of a scoring pass. */
export type ScoreName = 'proscore' | 'l2' | 'l1' | 'taylor' | 'bn';

export const SCORE_NAMES: readonly ScoreName[] = ['proscore', 'l2', 'l1', 'taylor', 'bn'];

/** One group's scores. `null` stands for +Infinity (a group PROscore keeps for good). */
export interface GroupScores {
  id: string;
  /** The group's first unit layer (its colour in the plots). */
  layer: string;
  scores: Partial<Record<ScoreName, number | null>>;
}

/** Every group's scores in one scoring pass, on the model that pass scored. */
export interface ScoringRecord {
  modelArtifactId: string;
  /** Which round's pass (prune); absent for a comparison (the input model). */
  round?: number;
  lambda: number;
  groups: GroupScores[];
}

/** Output channels of every prunable layer, for several models (the input model first). */
export interface WidthChart {
  title: string;
  layers: string[];
  series: { label: string; widths: number[] }[];
}

export interface AccuracyPoint {
  /** Fraction of the input model's FLOPs kept. */
  flopsKept: number;
  top1: number;
  label: string;
}

export interface AccuracySeries {
  label: string;
  points: AccuracyPoint[];
  /** Drawn dashed (e.g. after fine-tuning). */
  dashed?: boolean;
  /** Series with the same colour index share a colour (a criterion before and after fine-tuning). */
  colour?: number;
}

/** A table exactly as shown: header cells and text cells. */
export interface RecordTable {
  title: string;
  headers: string[];
  rows: string[][];
}

/** A run's effective configuration: configuration-file key -> value (secrets redacted), as the run recorded it. */
export type RunConfig = Record<string, string | number | boolean | string[]>;

export interface RunRecord {
  kind: 'prune' | 'compare';
  title: string;
  /** Key facts of the run's configuration and outcome, in display order. */
  facts: [string, string][];
  table: RecordTable;
  /** What the accuracy counts ('top-1', or 'exact match' for a sigmoid output); absent in records of older runs: top-1. */
  accuracyName?: string;
  accuracy: AccuracySeries[];
  widths: WidthChart[];
  /** The last scoring pass; absent when the run had none. */
  scoring?: ScoringRecord;
  /** Why a plot is missing or what it shows instead (e.g. no gradient criterion, so no PROscore). */
  notes: string[];
  /** Every setting the run used (flags, configuration file, variables, defaults); absent in records of older runs. */
  config?: RunConfig;
}

/** Reads an artifact's bytes by id (a local store, or the artifact service). */
export type ReadArtifact = (id: string) => Promise<Uint8Array>;
