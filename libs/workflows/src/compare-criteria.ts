import { ApplicationFailure, defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import { resolveCompareSettings, runComparison } from '@ippro/compare';
import type { CompareHost, CompareInput, CompareProgress, CompareResult } from '@ippro/compare';
import { pinnedToFingerprint } from '@ippro/workflow-core';
import { activitiesFor, runFingerprint } from './prune-model';

/** Where a comparison is: phase, fan-out counters, rows done. */
export const compareProgressQuery = defineQuery<CompareProgress>('compareProgress');

/**
 * Compares pruning criteria on one model (@ippro/compare's runComparison): one scoring pass,
 * then every criterion at every target, one-shot, each pruned model evaluated before and after
 * fine-tuning. Every payload is small: models and statistics travel as artifact ids. A run is a
 * few hundred activities at most, so it needs no continue-as-new.
 */
export async function compareCriteria(input: CompareInput): Promise<CompareResult> {
  let progress: CompareProgress = { phase: 'baseline', done: 0, total: 0, rowsDone: 0, rowsTotal: 0 };
  setHandler(compareProgressQuery, () => progress);
  try {
    resolveCompareSettings(input);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(error instanceof Error ? error.message : String(error), 'InvalidArgument');
  }
  const activities = activitiesFor(input);
  const pin = await runFingerprint(activities, undefined);
  const host: CompareHost = {
    activities: pinnedToFingerprint(activities, pin.fingerprint),
    jobPrefix: workflowInfo().workflowId,
    report(next) {
      progress = next;
    },
    ...(pin.numericPath === undefined ? {} : { numericPath: pin.numericPath }),
  };
  return runComparison(input, host);
}
