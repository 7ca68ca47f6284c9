import type { ArtifactStorage } from '@ippro/artifact-store';
import { runComparison } from '@ippro/compare';
import type { CompareInput, CompareProgress, CompareResult } from '@ippro/compare';
import type { ComputeExecutor } from './compute-executor';
import { InProcessExecutor } from './in-process-executor';
import { pinOf, pinnedToFingerprint } from '@ippro/workflow-core';
import { createPruneActivities } from './prune-activities';

export interface InProcessCompareOptions {
  store: ArtifactStorage;
  /** Default an InProcessExecutor over `store`. */
  executor?: ComputeExecutor;
  cifar10Dir?: string;
  /** Names the run in compute job ids; default 'local'. */
  runId?: string;
  onProgress?: (progress: CompareProgress) => void;
}

/**
 * The compareCriteria workflow's algorithm without Temporal: @ippro/compare's runComparison
 * calling the same activity functions with the same inputs in the same order, so its
 * artifacts equal the workflow's byte for byte. This is what `ippro compare --local` runs.
 */
export async function runCompareInProcess(input: CompareInput, options: InProcessCompareOptions): Promise<CompareResult> {
  const cifar = options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir };
  const executor = options.executor ?? new InProcessExecutor({ store: options.store, ...cifar });
  const activities = createPruneActivities({ store: options.store, executor, ...cifar });
  // As the workflow: the run's compute calls stay on the numeric path the pool computes with when it starts.
  const pin = pinOf(await activities.poolFingerprint({}));
  return runComparison(input, {
    activities: pinnedToFingerprint(activities, pin.fingerprint),
    jobPrefix: options.runId ?? 'local',
    report: (progress) => options.onProgress?.(progress),
    ...(pin.numericPath === undefined ? {} : { numericPath: pin.numericPath }),
  });
}
