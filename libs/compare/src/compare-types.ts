import type {
  ActivityConfig,
  CriterionName,
  EvaluationConfig,
  FineTuneConfig,
  ModelOutputKind,
  PlanConfig,
  ScoringConfig,
  ShardConfig,
  TargetMetricName,
} from '@ippro/workflow-core';

/** Fine-tuning of each pruned model: one replica of `steps` SGD steps from step 0. */
export type CompareFineTune = Omit<FineTuneConfig, 'replicas' | 'repetitions'>;

/**
 * A comparison of criteria on one model: every criterion at every target, one-shot (a single
 * round), each pruned model evaluated before and after fine-tuning. Small JSON, like the
 * pruneModel workflow's input: models and statistics travel as artifact ids.
 */
export interface CompareInput {
  /** sha256 of the input model artifact. */
  modelArtifactId: string;
  /** In the order the tables list them. */
  criteria: CriterionName[];
  /** Fractions of the metric to remove, each in (0, 1). */
  targets: number[];
  /** Default 'flops'. */
  metric?: TargetMetricName;
  /** The model's output kind, for scoring, fine-tuning and evaluation alike; absent: 'auto'. */
  output?: ModelOutputKind;
  /** PROscore's step size; default @ippro/importance's DEFAULT_LAMBDA. */
  lambda?: number;
  /** Scoring data; required when a criterion needs gradient statistics (proscore, taylor). */
  scoring?: ScoringConfig;
  /** Omitted, or 0 steps: no fine-tuning. */
  fineTune?: CompareFineTune;
  evaluation: EvaluationConfig;
  /** The planner's options other than the target (ranking, layer limits, rounding). */
  plan?: Omit<PlanConfig, 'target' | 'rounds'>;
  /** Runs of the random criterion, seeded seed + 1, seed + 2, ...; default 1. Fine-tuning always uses `seed`. */
  randomSeeds?: number;
  seed: number;
  shards?: ShardConfig;
  activity?: ActivityConfig;
}

/** A model's size and quality. */
export interface ModelMeasure {
  modelArtifactId: string;
  params: number;
  /** Multiply-accumulates per sample. */
  flops: number;
  channels: number;
  top1: number;
  loss: number;
  evaluated: number;
}

/** One criterion (and, for random, one seed) at one target. */
export interface CompareRow {
  criterion: CriterionName;
  /** The random criterion's seed: seed + 1 + run (no other criterion's scores depend on a seed). */
  seed?: number;
  /** Fraction of the metric the plan had to remove. */
  target: number;
  scoresArtifactId: string;
  planArtifactId: string;
  removedGroups: number;
  reachedGoal: boolean;
  /** The pruned model, before fine-tuning. */
  pruned: ModelMeasure;
  /** The pruned model after fine-tuning; absent without fine-tuning. */
  tuned?: ModelMeasure & { fineTuneLoss: number };
}

/** One criterion's scores of the input model. */
export interface CriterionScores {
  criterion: CriterionName;
  seed?: number;
  /** JSON artifact `{ method, rows: [[group id, score], ...] }` (mergeAndScore's). */
  scoresArtifactId: string;
}

export interface CompareResult {
  /** The model's output kind the comparison ran with (absent in results of older runs: 'auto'). */
  output?: ModelOutputKind;
  baseline: ModelMeasure;
  metric: TargetMetricName;
  criteria: CriterionName[];
  targets: number[];
  randomSeeds: number;
  fineTuneSteps: number;
  /** The one scoring pass every gradient criterion reads; absent when no criterion needs one. */
  scoring?: {
    /** Scoring passes run over the input model: 1 (never one per criterion). */
    passes: number;
    /** Per layer shard, the batch shards' statistics, in merge order. */
    statsArtifactIds: string[][];
    meanLoss?: number;
  };
  scores: CriterionScores[];
  /** Criteria in input order (random: seed by seed), each at every target in input order. */
  rows: CompareRow[];
}

export type ComparePhase = 'baseline' | 'scoring' | 'merging' | 'pruning' | 'done';

/** The answer of the compare workflow's progress query. */
export interface CompareProgress {
  phase: ComparePhase;
  done: number;
  total: number;
  /** Rows finished so far (criterion x target x seed). */
  rowsDone: number;
  rowsTotal: number;
}
