import type { ArtifactStorage } from '@ippro/artifact-store';
import { runPruneRounds } from '@ippro/workflow-core';
import type { PruneCarry, PrunePhase, PruneWorkflowInput, PruneWorkflowResult } from '@ippro/workflow-core';
import type { ComputeExecutor } from './compute-executor';
import { InProcessExecutor } from './in-process-executor';
import { createPruneActivities } from './prune-activities';

export interface InProcessRunOptions {
  store: ArtifactStorage;
  /** Default an InProcessExecutor over `store`. */
  executor?: ComputeExecutor;
  cifar10Dir?: string;
  /** Names the run in compute job ids; default 'local'. */
  runId?: string;
  onProgress?: (phase: PrunePhase, done: number, total: number) => void;
  /** Called at every round boundary; 'cancel' stops with the last finished round. */
  atBoundary?: (carry: PruneCarry) => Promise<'continue' | 'cancel'>;
}

/**
 * The pruneModel workflow's algorithm without Temporal: the same round logic
 * (@ippro/workflow-core's runPruneRounds) calling the same activity functions with the same
 * inputs in the same order, so its artifacts equal the workflow's byte for byte. This is what
 * `ippro prune --local` runs.
 */
export async function runPruneInProcess(input: PruneWorkflowInput, options: InProcessRunOptions): Promise<PruneWorkflowResult> {
  const executor =
    options.executor ?? new InProcessExecutor({ store: options.store, ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }) });
  const activities = createPruneActivities({ store: options.store, executor, ...(options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }) });
  return runPruneRounds(
    input,
    {
      activities,
      jobPrefix: options.runId ?? 'local',
      report: (phase, done, total) => options.onProgress?.(phase, done, total),
    },
    options.atBoundary,
  );
}
