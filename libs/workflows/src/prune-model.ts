import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/workflow';
import { afterRound, initialCarry, measureBaseline, outputOf, resolveSettings, resultOf, runRound } from '@ippro/workflow-core';
import type {
  PruneActivities,
  PruneCarry,
  PruneProgress,
  PruneWorkflowInput,
  PruneWorkflowResult,
  RoundHost,
} from '@ippro/workflow-core';

/** The run's phase, round, fan-out counters, per-round metrics and current model id. */
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
  };
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
  const rounds = input.plan.rounds;
  const progress: PruneProgress = {
    ...outputOf(input),
    phase: 'starting',
    round: input.carry?.round ?? 0,
    rounds,
    shardsDone: 0,
    shardsTotal: 0,
    currentModelArtifactId: input.carry?.modelArtifactId ?? input.modelArtifactId,
    ...(input.carry === undefined ? {} : { baseline: input.carry.baseline }),
    history: input.carry?.history ?? [],
    paused,
    cancelRequested,
  };
  setHandler(progressQuery, () => ({ ...progress, paused, cancelRequested }));
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

  const host: RoundHost = {
    activities: activitiesFor(input),
    jobPrefix: workflowInfo().workflowId,
    note: (line) => log.warn(`${workflowInfo().workflowId}: ${line}`),
    report(phase, shardsDone, shardsTotal) {
      progress.phase = phase;
      progress.shardsDone = shardsDone;
      progress.shardsTotal = shardsTotal;
    },
  };
  const finish = (result: PruneWorkflowResult): PruneWorkflowResult => {
    Object.assign(progress, {
      phase: 'done',
      shardsDone: 0,
      shardsTotal: 0,
      history: result.history,
      currentModelArtifactId: result.modelArtifactId,
      stoppedBecause: result.stoppedBecause,
    });
    return result;
  };

  let carry: PruneCarry;
  if (input.carry === undefined) {
    const baseline = await measureBaseline(input, host);
    carry = initialCarry(input, baseline);
    progress.baseline = baseline;
  } else {
    carry = input.carry;
  }
  progress.round = carry.round;

  // Round boundary: pause and cancel take effect here.
  if (paused && !cancelRequested) {
    progress.phase = 'paused';
    await condition(() => !paused || cancelRequested);
  }
  if (cancelRequested) return finish(resultOf(input, carry, 'cancelled', 'cancelled at a round boundary'));

  const outcome = await runRound(input, carry, host);
  const step = afterRound(input, carry, outcome);
  if (step.result !== undefined) return finish(step.result);
  if (cancelRequested) return finish(resultOf(input, step.next, 'cancelled', 'cancelled at a round boundary'));
  Object.assign(progress, { phase: 'starting', history: step.next.history, currentModelArtifactId: step.next.modelArtifactId });
  return continueAsNew<typeof pruneModel>({ ...input, carry: { ...step.next, paused, cancelRequested } });
}
