import { ROUND_TIMING_HEADERS, formatDuration, roundTimingCells } from '@ippro/report';
import { accuracyName } from '@ippro/workflow-core';
import type { ModelOutputKind, PruneWorkflowResult, RoundMetrics } from '@ippro/workflow-core';
import type { Client } from '@temporalio/client';
import type { CompareResult } from '@ippro/compare';
import { compareHandle, compareRunProgressOf } from '@ippro/orchestration';
import type { PruneRunProgress } from '@ippro/orchestration';
import { ProgressView, compareProgressLines, pruneProgressLines } from './progress-view';
import type { ProgressViewOptions } from './progress-view';
import { formatCount, formatPercent, textTable } from './text-table';

/**
 * The per-round table: params, FLOPs, accuracy (top-1, or exact match for a sigmoid) and what was
 * kept of the input model, then the round's wall time and images/s per phase.
 */
export function roundsTable(baseline: RoundMetrics, history: readonly RoundMetrics[], output?: ModelOutputKind): string {
  const rows = [baseline, ...history].map((round) => [
    round.round,
    formatCount(round.params),
    formatPercent(round.params / baseline.params),
    formatCount(round.flops),
    formatPercent(round.flops / baseline.flops),
    formatPercent(round.top1),
    round.loss.toFixed(4),
    round.removedGroups,
    ...roundTimingCells(round),
  ]);
  return textTable(['round', 'params', 'kept', 'FLOPs', 'kept', accuracyName(output), 'loss', 'groups removed', ...ROUND_TIMING_HEADERS], rows);
}

/** One finished round in a line (the live view; the table follows at the end). */
export function roundLine(baseline: RoundMetrics, round: RoundMetrics, output?: ModelOutputKind): string {
  const label = round.round === 0 ? 'baseline' : `round ${round.round}`;
  const time = round.timing === undefined ? '' : ` (${formatDuration(round.timing.seconds)})`;
  return (
    `${label}${time}: params ${formatCount(round.params)} (${formatPercent(round.params / baseline.params)}), ` +
    `FLOPs ${formatCount(round.flops)} (${formatPercent(round.flops / baseline.flops)}), ${accuracyName(output)} ${formatPercent(round.top1)}, loss ${round.loss.toFixed(4)}`
  );
}

export function renderResult(result: PruneWorkflowResult): string {
  return `${roundsTable(result.baseline, result.history, result.output)}\nresult: round ${result.resultRound} (${result.stoppedBecause})\n`;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** A prune run to follow: its result, and its progress read on demand (a stack's run, or one in this process). */
export interface FollowedRun {
  result: Promise<PruneWorkflowResult>;
  read(): Promise<PruneRunProgress | undefined>;
  /** Names the run in a failure. */
  name: string;
}

/**
 * Follows a run until it completes: its progress in `view`, each finished round as a line (on
 * `rounds`), then the run's result.
 */
export async function followRun(run: FollowedRun, options: ProgressViewOptions, rounds: NodeJS.WritableStream, intervalMs = 500): Promise<PruneWorkflowResult> {
  const view = new ProgressView(options);
  let shownRounds = -1;
  let finished = false;
  const result = run.result.finally(() => {
    finished = true;
  });
  result.catch(() => undefined);
  while (!finished) {
    const read = await run.read();
    if (read !== undefined) {
      const { progress, live } = read;
      const baseline = progress.baseline;
      if (baseline !== undefined && progress.history.length > shownRounds) {
        for (const round of [baseline, ...progress.history].slice(shownRounds + 1)) view.say(roundLine(baseline, round, progress.output), rounds);
        shownRounds = progress.history.length;
      }
      if (!finished) view.show(pruneProgressLines(live, options.verbose));
    }
    await Promise.race([sleep(intervalMs), result.catch(() => undefined)]);
  }
  view.done();
  try {
    return await result;
  } catch (error) {
    // WorkflowFailedError says only "Workflow execution failed": the cause names what went wrong.
    let cause: unknown = error;
    while ((cause as { cause?: unknown }).cause instanceof Error) cause = (cause as { cause: Error }).cause;
    throw new Error(`run ${run.name} failed: ${(cause as Error).message}`, { cause: error });
  }
}

/** Follows a comparison on a stack until it ends: its progress in a view, then its result. */
export async function followComparison(client: Client, runId: string, options: ProgressViewOptions): Promise<CompareResult> {
  const view = new ProgressView(options);
  let finished = false;
  const result = compareHandle(client, runId)
    .result()
    .finally(() => {
      finished = true;
    });
  result.catch(() => undefined);
  while (!finished) {
    const state = await compareRunProgressOf(client, runId);
    if (state !== undefined && !finished) view.show(compareProgressLines(state.progress, state.running, options.verbose));
    await Promise.race([sleep(500), result.catch(() => undefined)]);
  }
  view.done();
  return result;
}
