import type { ModelOutputKind, PruneWorkflowInput, RunNumericPath, StopReason } from '@ippro/workflow-core';

/**
 * One firing of a compression schedule: prune the model found at `modelPath` now, and keep the
 * result in `outDir` only if its top-1 stays within `accuracyBudget` of that model's.
 */
export interface ScheduledPruneInput {
  /** The schedule's id (named in summaries). */
  scheduleId: string;
  /** Model directory (model.json + weights) on the orchestrator's host, read each time the schedule fires. */
  modelPath: string;
  /** Directory on the orchestrator's host that receives each kept result (and the `latest` link). */
  outDir: string;
  /** Largest top-1 loss against the input model that a kept result may show, as a fraction (0.01 = one point). */
  accuracyBudget: number;
  /** The run's settings (as `ippro prune`); the model id is filled in when the schedule fires. */
  prune: Omit<PruneWorkflowInput, 'modelArtifactId' | 'carry'>;
}

export interface ScheduledPruneResult {
  scheduleId: string;
  kept: boolean;
  /** Why the result was kept or not. */
  reason: string;
  modelPath: string;
  /** The model found at `modelPath` when the schedule fired. */
  inputModelArtifactId: string;
  /** That model's output kind, as the run scored, tuned and evaluated it. */
  output: Exclude<ModelOutputKind, 'auto'>;
  /** Workflow id of the pruneModel run (`ippro status` shows it). */
  pruneRunId: string;
  /** The result model (the last round within the run's own accuracy stop). */
  modelArtifactId: string;
  resultRound: number;
  stoppedBecause: StopReason;
  baselineTop1: number;
  resultTop1: number;
  /** The result's FLOPs and parameters over the input model's. */
  flopsKept: number;
  paramsKept: number;
  /** The numeric path the pruneModel run computed on (its result's); absent when that run recorded none. */
  numericPath?: RunNumericPath;
  /** Where the kept model was written; absent when it was not kept. */
  keptDir?: string;
}

export interface LoadScheduledModelInput {
  modelPath: string;
  /** The schedule's output kind; absent or 'auto': read from the model found now. */
  output?: ModelOutputKind;
}

export interface LoadScheduledModelOutput {
  modelArtifactId: string;
  /** The model's output kind (the stated one, checked against the model). */
  output: Exclude<ModelOutputKind, 'auto'>;
}

export interface KeepScheduledResultInput {
  outDir: string;
  /** The new directory's name inside `outDir` (one per firing). */
  name: string;
  modelArtifactId: string;
  /** Written next to the model as summary.json. */
  summary: ScheduledPruneResult;
}

export interface KeepScheduledResultOutput {
  dir: string;
}

/** The activities a firing needs besides pruneModel's; the orchestrator registers them. */
export interface ScheduleActivities {
  /** Reads the model directory, checks it can be pruned (and its output kind), stores it as an artifact. */
  loadScheduledModel(input: LoadScheduledModelInput): Promise<LoadScheduledModelOutput>;
  /** Writes the model and summary.json to `outDir/name` and points `outDir/latest` at it. */
  keepScheduledResult(input: KeepScheduledResultInput): Promise<KeepScheduledResultOutput>;
}
