import type { PruneHandle } from '@ippro/orchestration';
import { queryProgress } from '@ippro/orchestration';
import { accuracyName } from '@ippro/workflow-core';
import type { ModelOutputKind, PruneProgress, PruneWorkflowResult, RoundMetrics } from '@ippro/workflow-core';
import { ProgressBar } from './progress-bar';
import { formatCount, formatPercent, textTable } from './text-table';

/** The per-round table: params, FLOPs, accuracy (top-1, or exact match for a sigmoid) and what was kept of the input model. */
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
  ]);
  return textTable(['round', 'params', 'kept', 'FLOPs', 'kept', accuracyName(output), 'loss', 'groups removed'], rows);
}

/** One finished round in a line (the live view; the table follows at the end). */
export function roundLine(baseline: RoundMetrics, round: RoundMetrics, output?: ModelOutputKind): string {
  const label = round.round === 0 ? 'baseline' : `round ${round.round}`;
  return (
    `${label}: params ${formatCount(round.params)} (${formatPercent(round.params / baseline.params)}), ` +
    `FLOPs ${formatCount(round.flops)} (${formatPercent(round.flops / baseline.flops)}), ${accuracyName(output)} ${formatPercent(round.top1)}, loss ${round.loss.toFixed(4)}`
  );
}

export function renderResult(result: PruneWorkflowResult): string {
  return `${roundsTable(result.baseline, result.history, result.output)}\nresult: round ${result.resultRound} (${result.stoppedBecause})\n`;
}

export function describeProgress(progress: PruneProgress): string {
  const round = progress.round === 0 ? 'baseline' : `round ${progress.round}/${progress.rounds}`;
  const flags = [progress.paused ? 'paused' : '', progress.cancelRequested ? 'cancel requested' : ''].filter(Boolean).join(', ');
  return `${round} ${progress.phase}${flags === '' ? '' : ` (${flags})`}`;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Follows a run through the `progress` query until it completes: a progress bar per fan-out,
 * the round table each time a round finishes (on `write`), then the workflow's result.
 */
export async function followRun(handle: PruneHandle, write: (text: string) => void, intervalMs = 500): Promise<PruneWorkflowResult> {
  const bar = new ProgressBar('pruning');
  let shownRounds = -1;
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  result.catch(() => undefined);
  while (!finished) {
    const progress = await queryProgress(handle).catch(() => undefined);
    if (progress !== undefined) {
      const rounds = progress.baseline === undefined ? -1 : progress.history.length;
      if (rounds > shownRounds && progress.baseline !== undefined) {
        bar.done();
        const baseline = progress.baseline;
        for (const round of [baseline, ...progress.history].slice(shownRounds + 1)) write(`${roundLine(baseline, round, progress.output)}\n`);
        shownRounds = rounds;
      }
      bar.update(progress.shardsDone, progress.shardsTotal, describeProgress(progress));
    }
    await Promise.race([sleep(intervalMs), result.catch(() => undefined)]);
  }
  bar.done();
  try {
    return await result;
  } catch (error) {
    // WorkflowFailedError says only "Workflow execution failed": the cause names what went wrong.
    let cause: unknown = error;
    while ((cause as { cause?: unknown }).cause instanceof Error) cause = (cause as { cause: Error }).cause;
    throw new Error(`run ${handle.workflowId} failed: ${(cause as Error).message}`, { cause: error });
  }
}
