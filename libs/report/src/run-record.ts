/**
 * What the HTML report shows, recorded by a run: small JSON written next to the run's results
 * (`report.json`), so a report can be rendered again at any time without the run's artifacts.
 */

import { CRITERION_NAMES } from '@ippro/workflow-core';
import type { CriterionName } from '@ippro/workflow-core';

/** The scores the report can plot for every group of a scoring pass: every criterion of the registry. */
export type ScoreName = CriterionName;

export const SCORE_NAMES: readonly ScoreName[] = CRITERION_NAMES;

/** How the plots name each criterion (a criterion added to the registry without a title does not compile). */
export const SCORE_TITLES: Readonly<Record<ScoreName, string>> = {
  proscore: 'PROscore',
  l1: 'L1 magnitude',
  l2: 'L2 magnitude',
  taylor: 'Taylor |G . F|',
  'taylor-batch': 'Taylor per batch (F . G_b)^2',
  fisher: 'Fisher (squared mini-batch gradients)',
  bn: 'batch-norm |gamma|',
  'group-norm': 'group norm (Torch-Pruning)',
  lamp: 'LAMP',
  fpgm: 'FPGM (distance to the layer set)',
  random: 'random',
};

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
  /** Criteria this pass cannot give: the gradient ones without statistics, the per-batch ones without per-batch statistics. */
  skipped?: ScoreName[];
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
