import type { Client } from '@temporalio/client';
import type { CompareResult } from '@ippro/compare';
import { compareRunInputOf, describeRun, pruneRunIdOf, pruneRunInputOf } from '@ippro/orchestration';
import type { RunDescription } from '@ippro/orchestration';
import type { PruneWorkflowResult } from '@ippro/workflow-core';
import { startBackend } from './cli-inputs';
import { COMPARE_SUBMISSION_FIELDS, wallSeconds, writeCompareOutput } from './compare-output';
import { UsageError } from './exit-codes';
import { PRUNE_SUBMISSION_FIELDS, keptOnStack, writePruneOutput } from './prune-output';
import type { RunArtifacts } from './run-artifacts';
import { submissionOfRun } from './run-submission';
import type { RunSubmission } from './run-submission';

/**
 * `ippro watch RUN --out DIR`: the directory the submitting `ippro prune` or `ippro compare` would
 * have written to --out, written from the run's input (its history), its result, its artifacts
 * (the stack's store) and its submission (its memo), with the functions those commands write with.
 */
export interface WatchOutput {
  /** The directory to write (absolute), checked new or empty before the run was followed. */
  out: string;
  artifacts: RunArtifacts;
  /** From the memo of the run watched (a scheduled firing's was set by its schedule); undefined when it has none. */
  submission: RunSubmission | undefined;
}

/** The status of the run whose result `watch --out` writes: a scheduled firing's is its prune run's, once that has started. */
async function resultRunOf(client: Client, run: RunDescription): Promise<RunDescription> {
  if (run.kind !== 'scheduled') return run;
  return describeRun(client, pruneRunIdOf(run) as string).catch(() => run);
}

/**
 * Before following the run: refuses one that ended without a result (failed, cancelled,
 * terminated, timed out), and starts the backend the report's scores are computed on: --backend,
 * else the submitting command's (the same numbers in the report), else auto.
 */
export async function prepareWatchOutput(client: Client, run: RunDescription, options: { out: string; artifacts: RunArtifacts; backend: string | undefined; quiet: boolean }): Promise<WatchOutput> {
  const resultRun = await resultRunOf(client, run);
  if (resultRun.status !== 'RUNNING' && resultRun.status !== 'COMPLETED') {
    const which = resultRun.runId === run.runId ? '' : ` (its prune run ${resultRun.runId})`;
    throw new UsageError(`run ${run.runId}${which} is ${resultRun.status.toLowerCase()}: it has no result to write to --out ${options.out}`);
  }
  const submission = submissionOfRun(run.description);
  const submitted = submission?.config['backend'];
  await startBackend(options.backend ?? (typeof submitted === 'string' ? submitted : 'auto'), options.quiet);
  return { out: options.out, artifacts: options.artifacts, submission };
}

/** The innermost message of a failure chain (WorkflowFailedError says only "Workflow execution failed"). */
function rootMessage(error: unknown): string {
  let cause: unknown = error;
  while ((cause as { cause?: unknown }).cause instanceof Error) cause = (cause as { cause: Error }).cause;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The error of a run that ended without a result while followed: the run, how it ended, and that nothing was written. */
export async function endedWithoutResult(client: Client, runId: string, out: string, error: unknown): Promise<Error> {
  const status = await describeRun(client, runId).then(
    (run) => run.status.toLowerCase(),
    () => 'gone',
  );
  return new Error(`run ${runId} is ${status}: ${rootMessage(error)}; nothing written to --out ${out}`, { cause: error });
}

/** One line when the run carries no submission: which fields its files lack, and why. */
function warnWithoutSubmission(runId: string, output: WatchOutput, fields: readonly string[]): void {
  if (output.submission !== undefined) return;
  process.stderr.write(
    `ippro: warning: run ${runId} carries no record of the command that submitted it (an older ippro, or another Temporal client started it): ` +
      `${output.out} is written without ${fields.join(', ')}\n`,
  );
}

/** Writes a prune run's directory (`runId`: the run watched; `pruneRunId`: the run that pruned, a scheduled firing's child). */
export async function writeWatchedPrune(client: Client, output: WatchOutput, ids: { runId: string; pruneRunId: string }, result: PruneWorkflowResult): Promise<void> {
  warnWithoutSubmission(ids.runId, output, PRUNE_SUBMISSION_FIELDS);
  const input = await pruneRunInputOf(client, ids.pruneRunId);
  const finished = { input, result, read: (id: string) => output.artifacts.get(id), submission: output.submission };
  await writePruneOutput(output.out, finished, keptOnStack(output.artifacts.description, ids.runId));
}

/** Writes a comparison's directory; its wall time is the run's own, from its start to its close, as `ippro compare` records it. */
export async function writeWatchedComparison(client: Client, output: WatchOutput, runId: string, result: CompareResult): Promise<void> {
  warnWithoutSubmission(runId, output, COMPARE_SUBMISSION_FIELDS);
  const input = await compareRunInputOf(client, runId);
  const seconds = wallSeconds(await client.workflow.getHandle(runId).describe());
  await writeCompareOutput(output.out, { input, result, read: (id) => output.artifacts.get(id), submission: output.submission, seconds });
}
