import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { scheduledPruneRunId } from '@ippro/workflow-core';
import { keepDecision } from './keep-decision';
import { keptDirName } from './kept-dir-name';
import { NON_RETRYABLE_ERROR_TYPES, pruneModel } from './prune-model';
import type { ScheduleActivities, ScheduledPruneInput, ScheduledPruneResult } from './scheduled-prune-types';

const activities = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 5, initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

function checkInput(input: ScheduledPruneInput): void {
  const problems: string[] = [];
  if (typeof input.modelPath !== 'string' || input.modelPath === '') problems.push('modelPath is empty');
  if (typeof input.outDir !== 'string' || input.outDir === '') problems.push('outDir is empty');
  if (!(input.accuracyBudget >= 0 && input.accuracyBudget < 1)) problems.push(`accuracyBudget must be a fraction in [0, 1), got ${String(input.accuracyBudget)}`);
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(`scheduled run: ${problems.join('; ')}`, 'InvalidArgument');
}

/**
 * What a compression schedule starts each time it fires: loads the model now at `modelPath`,
 * prunes it (a pruneModel child run, so `ippro status`/`watch` follow it), and keeps the result
 * in `outDir` only if top-1 stays within the accuracy budget. The result says what happened.
 */
export async function scheduledPrune(input: ScheduledPruneInput): Promise<ScheduledPruneResult> {
  checkInput(input);
  const { workflowId } = workflowInfo();
  const { modelArtifactId, output } = await activities.loadScheduledModel({ modelPath: input.modelPath, ...(input.prune.output === undefined ? {} : { output: input.prune.output }) });
  const pruneRunId = scheduledPruneRunId(workflowId);
  const result = await executeChild(pruneModel, { args: [{ ...input.prune, modelArtifactId, output }], workflowId: pruneRunId });
  const decision = keepDecision(result, input.accuracyBudget);
  const summary: ScheduledPruneResult = {
    scheduleId: input.scheduleId,
    kept: decision.kept,
    reason: decision.reason,
    modelPath: input.modelPath,
    inputModelArtifactId: modelArtifactId,
    output,
    pruneRunId,
    modelArtifactId: result.modelArtifactId,
    resultRound: result.resultRound,
    stoppedBecause: result.stoppedBecause,
    baselineTop1: result.baseline.top1,
    resultTop1: decision.result.top1,
    flopsKept: decision.result.flops / result.baseline.flops,
    paramsKept: decision.result.params / result.baseline.params,
    ...(result.numericPath === undefined ? {} : { numericPath: result.numericPath }),
  };
  if (!decision.kept) return summary;
  const { dir } = await activities.keepScheduledResult({ outDir: input.outDir, name: keptDirName(workflowId), modelArtifactId: result.modelArtifactId, summary });
  return { ...summary, keptDir: dir };
}
