import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/workflow';
import { RunProgress, afterRound, initialCarry, measureBaseline, pinOf, pinnedToFingerprint, resolveSettings, resultOf, runRound } from '@ippro/workflow-core';
import type {
  PruneActivities,
  PruneCarry,
  PruneProgress,
  PruneWorkflowInput,
  PruneWorkflowResult,
  RoundHost,
  RunPin,
} from '@ippro/workflow-core';

/** The run's phase, round, fan-out counters, the work phase's totals and finished work, per-round metrics and timings, and current model id. */
export const progressQuery = defineQuery<PruneProgress>('progress');
/** Pause at the next round boundary (the round in progress finishes). */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Stop at the next round boundary; the result is the last finished round. */
export const cancelSignal = defineSignal('cancel');

/** Error types an activity raises for bad input: retrying them elsewhere cannot help. */
export const NON_RETRYABLE_ERROR_TYPES = ['InvalidArgument', 'NotFound', 'DataLoss'];

/** The activities as proxies with the run's timeouts and retries (shared with the compare workflow). */
export function activitiesFor(input: Pick<PruneWorkflowInput, 'activity'>): PruneActivities {
  const settings = input.activity ?? {};
  const retry: RetryPolicy = {
    maximumAttempts: settings.maximumAttempts ?? 5,
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  };
  // Compute calls report after every batch or step: a silent one is lost and retried elsewhere.
  const compute = proxyActivities<PruneActivities>({
    startToCloseTimeout: `${settings.startToCloseSeconds ?? 3600} seconds`,
    heartbeatTimeout: `${settings.heartbeatSeconds ?? 120} seconds`,
    retry,
  });
  // Bookkeeping (plans, merges, surgery, averaging) runs in the orchestrator's own process and
  // heartbeats on a timer: a killed orchestrator's activity is retried after the heartbeat timeout.
  const local = proxyActivities<PruneActivities>({
    startToCloseTimeout: `${settings.startToCloseSeconds ?? 3600} seconds`,
    heartbeatTimeout: `${settings.heartbeatSeconds ?? 120} seconds`,
    retry,
  });
  return {
    planScoringShards: local.planScoringShards,
    computeGradStats: compute.computeGradStats,
    mergeAndScore: local.mergeAndScore,
    scoreTrajectory: compute.scoreTrajectory,
    planRound: local.planRound,
    applySurgery: local.applySurgery,
    batchNormStatistics: compute.batchNormStatistics,
    recalibrateModel: local.recalibrateModel,
    fineTuneReplica: compute.fineTuneReplica,
    averageModels: local.averageModels,
    planEvaluationShards: local.planEvaluationShards,
    evaluateShard: compute.evaluateShard,
    mergeEvaluations: local.mergeEvaluations,
    checkArtifacts: local.checkArtifacts,
    poolFingerprint: local.poolFingerprint,
  };
}

/** Marks the histories of runs that pin their compute calls to a kernel fingerprint (older ones replay without). */
export const RUN_FINGERPRINT_PATCH = 'run-kernel-fingerprint';

/**
 * The kernel fingerprint the run's compute calls are pinned to, and the numeric path it stands
 * for: the ones it carries, else (a new run) the pool's now, recorded in the history by the
 * poolFingerprint activity, so that a restarted orchestrator replays the same values and sends
 * the run's calls to the same kind of worker. Empty when replaying a run started before
 * fingerprints; without `numericPath` when the recorded answer named the fingerprint alone.
 */
export async function runFingerprint(activities: PruneActivities, carried: RunPin | undefined): Promise<RunPin> {
  if (carried?.fingerprint !== undefined) {
    return { fingerprint: carried.fingerprint, ...(carried.numericPath === undefined ? {} : { numericPath: carried.numericPath }) };
  }
  if (!patched(RUN_FINGERPRINT_PATCH)) return {};
  return pinOf(await activities.poolFingerprint({}));
}

/**
 * Prunes a model round by round (docs/ARCHITECTURE.md "One round, as data flows"). One round per
 * run: after each round the workflow continues as new carrying only ids and metrics, so its
 * history stays small however many rounds there are. Signals `pause`, `resume` and `cancel` take
 * effect at round boundaries; the `progress` query reports where the run is.
 */
export async function pruneModel(input: PruneWorkflowInput): Promise<PruneWorkflowResult> {
  let paused = input.carry?.paused ?? false;
  let cancelRequested = input.carry?.cancelRequested ?? false;
  const progress = new RunProgress(input);
  setHandler(progressQuery, () => progress.snapshot({ paused, cancelRequested }));
  setHandler(pauseSignal, () => {
    paused = true;
  });
  setHandler(resumeSignal, () => {
    paused = false;
  });
  setHandler(cancelSignal, () => {
    cancelRequested = true;
  });

  try {
    resolveSettings(input);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(error instanceof Error ? error.message : String(error), 'InvalidArgument');
  }

  const activities = activitiesFor(input);
  const pin = await runFingerprint(activities, input.carry);
  const { fingerprint } = pin;
  const host: RoundHost = {
    activities: pinnedToFingerprint(activities, fingerprint),
    jobPrefix: workflowInfo().workflowId,
    note: (line) => log.warn(`${workflowInfo().workflowId}: ${line}`),
    roundStarted: (clock) => progress.roundStarted(clock),
    report: (phase, shardsDone, shardsTotal) => progress.report(phase, shardsDone, shardsTotal),
  };
  const finish = (result: PruneWorkflowResult): PruneWorkflowResult => {
    progress.finished(result);
    return result;
  };

  // A run carried from before fingerprints and pinned from now on records no numeric path: its first rounds ran on any.
  const carry: PruneCarry = input.carry ?? initialCarry(input, await measureBaseline(input, host), pin);

  // Round boundary: pause and cancel take effect here.
  progress.atBoundary(carry, paused && !cancelRequested ? 'paused' : 'starting');
  if (paused && !cancelRequested) await condition(() => !paused || cancelRequested);
  if (cancelRequested) return finish(resultOf(input, carry, 'cancelled', 'cancelled at a round boundary'));

  const outcome = await runRound(input, carry, host);
  const step = afterRound(input, carry, outcome);
  if (step.result !== undefined) return finish(step.result);
  if (cancelRequested) return finish(resultOf(input, step.next, 'cancelled', 'cancelled at a round boundary'));
  progress.atBoundary(step.next);
  return continueAsNew<typeof pruneModel>({ ...input, carry: { ...step.next, paused, cancelRequested, ...(fingerprint === undefined ? {} : { fingerprint }) } });
}
