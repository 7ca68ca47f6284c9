import { formatDuration } from '@ippro/report';
import { POSITIVE_NUMBER, setting, toggle } from '@ippro/settings';
import type { CompareProgress } from '@ippro/compare';
import type { LiveProgress, LiveTask } from '@ippro/workflow-core';

/** How a followed run shows its progress: on a terminal one live line (a line per running activity with --verbose), in a log a line now and then. */
export const PROGRESS_SETTINGS = {
  progressInterval: setting({
    parse: POSITIVE_NUMBER,
    placeholder: 'SECONDS',
    env: 'IPPRO_PROGRESS_INTERVAL',
    help: 'seconds between two progress lines when the output is not a terminal (a log file)',
    default: '10',
  }),
  verbose: toggle({ help: 'show each running activity (its worker, its batches or steps, its images/s) under the progress line' }),
};

export interface ProgressViewOptions {
  intervalSeconds: number;
  verbose: boolean;
}

/** The view's options from a command's PROGRESS_SETTINGS values. */
export function viewOptions(values: { progressInterval: number; verbose: boolean }): ProgressViewOptions {
  return { intervalSeconds: values.progressInterval, verbose: values.verbose };
}

export function formatRate(imagesPerSecond: number | undefined): string {
  return imagesPerSecond === undefined ? '- img/s' : `${imagesPerSecond >= 100 ? imagesPerSecond.toFixed(0) : imagesPerSecond.toFixed(1)} img/s`;
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function taskLine(task: LiveTask): string {
  // An activity reports a total of 0 until a worker has taken its call (it waits for a free one).
  if (task.total === 0) return `  ${task.phase}: waiting for a free worker`;
  return `  ${task.worker ?? 'dispatching'}  ${task.phase}  ${task.done}/${task.total} ${task.counts}  ${task.images} images  ${formatRate(task.imagesPerSecond)}`;
}

/** Where a prune run is, in a line (and a line per running activity when `verbose`). */
export function pruneProgressLines(live: LiveProgress, verbose: boolean): string[] {
  const where = live.round === 0 ? 'baseline' : `round ${live.round}/${live.rounds}`;
  const requests = [live.paused && live.phase !== 'paused' ? 'pause requested' : '', live.cancelRequested ? 'cancel requested' : ''].filter(Boolean);
  const parts = [`${where} ${live.phase}${requests.length === 0 ? '' : ` (${requests.join(', ')})`}`];
  const { work, run } = live;
  if (work !== undefined) {
    const percent = work.total > 0 ? ` (${Math.floor((100 * work.done) / work.total)}%)` : '';
    parts.push(
      `${bar(work.total > 0 ? work.done / work.total : 0)} ${work.done}/${work.total} ${work.unit}${percent}`,
      formatRate(work.imagesPerSecond),
      `phase ${formatDuration(work.elapsedSeconds)}, ETA ${work.etaSeconds === undefined ? '-' : formatDuration(work.etaSeconds)}`,
    );
  }
  if (run.elapsedSeconds !== undefined) parts.push(`run ${formatDuration(run.elapsedSeconds)}, ETA ${run.etaSeconds === undefined ? '-' : formatDuration(run.etaSeconds)}`);
  return [parts.join('  '), ...(verbose ? live.running.map(taskLine) : [])];
}

/** Where a comparison is, in a line (and a line per running activity when `verbose`). */
export function compareProgressLines(progress: CompareProgress, running: readonly LiveTask[], verbose: boolean): string[] {
  const images = running.reduce((sum, task) => sum + (task.imagesPerSecond ?? 0), 0);
  const line = `${progress.phase} ${bar(progress.total > 0 ? progress.done / progress.total : 0)} ${progress.done}/${progress.total}, ${progress.rowsDone}/${progress.rowsTotal} pruned models${running.length > 0 ? `  ${formatRate(images)} on ${running.length} activities` : ''}`;
  return [line, ...(verbose ? running.map(taskLine) : [])];
}

/**
 * The progress of a run being followed. On a terminal it redraws its lines in place; elsewhere
 * (a log file) it prints them at most once every `intervalSeconds`. Lines written with `say`
 * (a finished round) go above the progress lines.
 */
export class ProgressView {
  private drawn = 0;
  private lines: string[] = [];
  private lastPrinted = -Infinity;

  constructor(
    private readonly options: ProgressViewOptions,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {}

  show(lines: readonly string[]): void {
    this.lines = [...lines];
    if (this.stream.isTTY) {
      this.redraw();
    } else if (this.now() - this.lastPrinted >= this.options.intervalSeconds * 1000) {
      this.lastPrinted = this.now();
      this.stream.write(`${lines.join('\n')}\n`);
    }
  }

  /** A line that stays (on `stream`, or on `to`): written above the progress lines. */
  say(text: string, to: NodeJS.WritableStream = this.stream): void {
    this.clear();
    to.write(text.endsWith('\n') ? text : `${text}\n`);
    if (this.stream.isTTY) this.redraw();
  }

  /** Leaves the terminal's last progress lines in place, followed by a new line. */
  done(): void {
    if (this.stream.isTTY && this.drawn > 0) this.stream.write('\n');
    this.drawn = 0;
    this.lines = [];
  }

  private clear(): void {
    if (!this.stream.isTTY || this.drawn === 0) return;
    this.stream.write(`\r\x1b[2K${'\x1b[1A\x1b[2K'.repeat(this.drawn - 1)}`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    if (this.lines.length === 0) return;
    const width = this.stream.columns > 0 ? this.stream.columns - 1 : Infinity;
    this.stream.write(this.lines.map((line) => (line.length > width ? line.slice(0, width) : line)).join('\n'));
    this.drawn = this.lines.length;
  }
}
