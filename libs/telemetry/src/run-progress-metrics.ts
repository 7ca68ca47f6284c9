import { Gauge } from 'prom-client';
import { metricsRegistry } from './metrics';

/** Reads the progress of the runs this process works for and records it (recordRunProgress); called at each scrape. */
export type RunProgressSource = () => Promise<void>;

let source: RunProgressSource | undefined;
let refreshing: Promise<void> | undefined;

/**
 * Every run gauge reads the runs' progress when scraped: the scrape collects the gauges in
 * parallel, so they share one refresh.
 */
function refresh(): Promise<void> {
  if (source === undefined) return Promise.resolve();
  refreshing ??= source()
    .catch(() => undefined)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

const gauge = (name: string, help: string, labelNames: readonly string[]): Gauge => new Gauge({ name, help, labelNames, registers: [metricsRegistry], collect: refresh });

/** The live progress of each run the orchestrator works for: the numbers `ippro status --json` shows as `live`. */
export const runProgressMetrics = {
  workDone: gauge('ippro_run_work_done', 'Work done in the phase in progress: images (scoring, evaluation) or SGD steps (fine-tuning)', ['run_id', 'phase', 'unit']),
  workTotal: gauge('ippro_run_work_total', 'Work of the phase in progress in all, in the same unit', ['run_id', 'phase', 'unit']),
  imagesPerSecond: gauge('ippro_run_images_per_second', 'Images per second of the phase in progress since it began', ['run_id', 'phase']),
  elapsedSeconds: gauge('ippro_run_elapsed_seconds', 'Seconds since the phase in progress (scope phase) or the run (scope run) began', ['run_id', 'scope']),
  etaSeconds: gauge('ippro_run_eta_seconds', 'Estimated seconds until the phase in progress (scope phase) or the run (scope run) ends', ['run_id', 'scope']),
};

/** Sets where the run gauges read progress from at each scrape (undefined: nowhere). */
export function setRunProgressSource(next: RunProgressSource | undefined): void {
  source = next;
}

/**
 * What the run gauges record of a run: the numbers of its live progress (@ippro/workflow-core's
 * LiveProgress has them), as telemetry knows no pruning types.
 */
export interface RunGaugeValues {
  work?: { phase: string; unit: string; done: number; total: number; elapsedSeconds: number; imagesPerSecond?: number; etaSeconds?: number };
  run: { elapsedSeconds?: number; etaSeconds?: number };
}

/** Records the live progress of the runs this process works for now, in place of what the gauges held. */
export function recordRunsProgress(runs: readonly (readonly [string, RunGaugeValues])[]): void {
  for (const metric of Object.values(runProgressMetrics)) metric.reset();
  for (const [runId, live] of runs) {
    const run = { run_id: runId };
    const { work } = live;
    if (work !== undefined) {
      runProgressMetrics.workDone.set({ ...run, phase: work.phase, unit: work.unit }, work.done);
      runProgressMetrics.workTotal.set({ ...run, phase: work.phase, unit: work.unit }, work.total);
      if (work.imagesPerSecond !== undefined) runProgressMetrics.imagesPerSecond.set({ ...run, phase: work.phase }, work.imagesPerSecond);
      runProgressMetrics.elapsedSeconds.set({ ...run, scope: 'phase' }, work.elapsedSeconds);
      if (work.etaSeconds !== undefined) runProgressMetrics.etaSeconds.set({ ...run, scope: 'phase' }, work.etaSeconds);
    }
    if (live.run.elapsedSeconds !== undefined) runProgressMetrics.elapsedSeconds.set({ ...run, scope: 'run' }, live.run.elapsedSeconds);
    if (live.run.etaSeconds !== undefined) runProgressMetrics.etaSeconds.set({ ...run, scope: 'run' }, live.run.etaSeconds);
  }
}

/** Per run: activities running here now, and when its last one ended. */
const runActivity = new Map<string, { running: number; lastEnded: number }>();

/** An activity of `runId` starts (true) or ends (false) here: the activity interceptor tells. */
export function noteRunActivity(runId: string, starts: boolean, now = Date.now()): void {
  const entry = runActivity.get(runId) ?? { running: 0, lastEnded: now };
  entry.running += starts ? 1 : -1;
  if (!starts) entry.lastEnded = now;
  runActivity.set(runId, entry);
}

/** Runs with an activity running here, or one that ended within `withinMs`; runs quiet for longer are forgotten. */
export function recentRuns(withinMs: number, now = Date.now()): string[] {
  for (const [runId, entry] of runActivity) if (entry.running <= 0 && now - entry.lastEnded > withinMs) runActivity.delete(runId);
  return [...runActivity.keys()];
}
