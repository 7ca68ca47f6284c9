import type {
  ActivityConfig,
  EvaluationConfig,
  FineTuneConfig,
  ModelOutputKind,
  PlanConfig,
  ProscoreConfig,
  RecalibrationConfig,
  RunNumericPath,
  ScoringConfig,
  ShardConfig,
  TargetMetricName,
} from '@ippro/workflow-core';

/** Fine-tuning of each pruned model: one replica of `steps` SGD steps from step 0 (a cosine schedule decays over them). */
export type CompareFineTune = Omit<FineTuneConfig, 'replicas' | 'repetitions'>;

/**
 * A comparison of criteria on one model: every criterion at every target, one-shot (a single
 * round), each pruned model evaluated after pruning, after batch-norm recalibration and after
 * fine-tuning. Small JSON, like the pruneModel workflow's input: models and statistics travel as
 * artifact ids.
 */
export interface CompareInput {
  /** sha256 of the input model artifact. */
  modelArtifactId: string;
  /** Criteria, or criterion variants such as `proscore:per-batch+descending` (CriterionVariant), in the order the tables list them. */
  criteria: string[];
  /** Fractions of the metric to remove, each in (0, 1). */
  targets: number[];
  /** Default 'flops'. */
  metric?: TargetMetricName;
  /** The model's output kind, for scoring, fine-tuning and evaluation alike; absent: 'auto'. */
  output?: ModelOutputKind;
  /** PROscore's step size; default @ippro/importance's DEFAULT_LAMBDA. */
  lambda?: number;
  /** How plain `proscore` is read; a variant's modifiers override it. Absent: pooled, ascending, no weight decay. */
  proscore?: ProscoreConfig;
  /** Scoring data; required when a criterion needs gradient statistics (proscore, taylor). */
  scoring?: ScoringConfig;
  /** Each run scores `scoringSamples` samples of scoring.dataset drawn by its seed; absent: all of them, in every run. */
  scoringSamples?: number;
  /** Batch-norm recalibration of each pruned model before fine-tuning, measured on its own; absent: none. */
  recalibration?: RecalibrationConfig;
  /** Omitted, or 0 steps: no fine-tuning. */
  fineTune?: CompareFineTune;
  /** Where choices are made: every table reports it (a held-out split of the training data, in the protocol of docs/results). */
  evaluation: EvaluationConfig;
  /** Reported, never chosen on: the test set, in columns of its own. Absent: none. */
  test?: EvaluationConfig;
  /** The planner's options other than the target (ranking, layer limits, rounding). */
  plan?: Omit<PlanConfig, 'target' | 'rounds'>;
  /**
   * Runs of the random criterion alone, seeded seed + 1, seed + 2, ...; every other criterion runs
   * once, and fine-tuning always uses `seed`. Default 1. Not with `seeds`.
   */
  randomSeeds?: number;
  /**
   * Runs of every criterion. Run k (from 0) uses seed + k for its scoring draw, its fine-tuning
   * order and its recalibration batches, and seed + 1 + k for the random criterion, so run 0 is a
   * one-round `prune --seed S`. The tables give mean and standard deviation over the runs.
   */
  seeds?: number;
  seed: number;
  shards?: ShardConfig;
  activity?: ActivityConfig;
}

/** Top-1 and mean loss on one evaluation set. */
export interface Evaluation {
  top1: number;
  loss: number;
  evaluated: number;
}

/** A model's size and quality. */
export interface ModelMeasure extends Evaluation {
  modelArtifactId: string;
  params: number;
  /** Multiply-accumulates per sample. */
  flops: number;
  channels: number;
  /** On the test set, when the comparison has one. */
  test?: Evaluation;
}

/** One criterion at one target, in one run. */
export interface CompareRow {
  /** The criterion or variant, as the input lists it. */
  criterion: string;
  /** Which of `seeds` runs (from 0); absent when the input has no `seeds`. */
  run?: number;
  /** The random criterion's seed: seed + 1 + run (no other criterion's scores depend on a seed). */
  seed?: number;
  /** Fraction of the metric the plan had to remove. */
  target: number;
  scoresArtifactId: string;
  planArtifactId: string;
  removedGroups: number;
  reachedGoal: boolean;
  /** The pruned model, before recalibration and fine-tuning. */
  pruned: ModelMeasure;
  /** The pruned model with its batch norm recalibrated; absent without recalibration. */
  recalibrated?: ModelMeasure;
  /** The pruned (and recalibrated) model after fine-tuning; absent without fine-tuning. */
  tuned?: ModelMeasure & { fineTuneLoss: number };
}

/** One criterion's scores of the input model, in one run. */
export interface CriterionScores {
  criterion: string;
  run?: number;
  seed?: number;
  /** JSON artifact `{ method, rows: [[group id, score], ...] }` (mergeAndScore's). */
  scoresArtifactId: string;
}

export interface CompareResult {
  /** The model's output kind the comparison ran with (absent in results of older runs: 'auto'). */
  output?: ModelOutputKind;
  baseline: ModelMeasure;
  metric: TargetMetricName;
  criteria: string[];
  targets: number[];
  randomSeeds: number;
  /** Runs of every criterion; absent when the input has no `seeds`. */
  seeds?: number;
  fineTuneSteps: number;
  /** Batches of each recalibration; absent without recalibration. */
  recalibrationBatches?: number;
  /** The scoring passes the gradient criteria read; absent when no criterion needs one. */
  scoring?: {
    /** Scoring passes run over the input model: one per distinct scoring data (never one per criterion). */
    passes: number;
    /** The first pass's statistics: per layer shard, the batch shards', in merge order. */
    statsArtifactIds: string[][];
    meanLoss?: number;
  };
  scores: CriterionScores[];
  /** Criteria in input order (each run in order; legacy random: seed by seed), each at every target in input order. */
  rows: CompareRow[];
  /** The numeric path every compute call of the comparison ran on; absent in results of older runs. */
  numericPath?: RunNumericPath;
}

export type ComparePhase = 'baseline' | 'scoring' | 'merging' | 'pruning' | 'done';

/** The answer of the compare workflow's progress query. */
export interface CompareProgress {
  phase: ComparePhase;
  done: number;
  total: number;
  /** Rows finished so far (criterion x target x run). */
  rowsDone: number;
  rowsTotal: number;
}
