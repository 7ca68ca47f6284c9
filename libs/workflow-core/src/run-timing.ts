import type { BatchRangeRef, PrunePhase, PruneWorkflowInput, PruneWorkflowResult, RoundMetrics } from './prune-types';

/** The phases whose work is counted: images (scoring, evaluation) or SGD steps (fine-tuning). */
export type WorkPhase = 'scoring' | 'fine-tuning' | 'evaluating';
export type WorkUnit = 'images' | 'steps';

export const UNIT_OF_WORK_PHASE: Readonly<Record<WorkPhase, WorkUnit>> = { scoring: 'images', 'fine-tuning': 'steps', evaluating: 'images' };

/** The compute activities and the phase whose work each does. */
export const WORK_PHASE_OF_ACTIVITY: Readonly<Record<string, WorkPhase>> = {
  computeGradStats: 'scoring',
  fineTuneReplica: 'fine-tuning',
  evaluateShard: 'evaluating',
};

/** A round's phases as they are timed: a local-SGD stage's weight averaging counts as fine-tuning. */
export type TimedPhase = 'scoring' | 'merging' | 'planning' | 'surgery' | 'fine-tuning' | 'evaluating';

const TIMED_PHASE_OF: Readonly<Partial<Record<PrunePhase, TimedPhase>>> = {
  scoring: 'scoring',
  merging: 'merging',
  planning: 'planning',
  surgery: 'surgery',
  'fine-tuning': 'fine-tuning',
  averaging: 'fine-tuning',
  evaluating: 'evaluating',
};

/** The timed phase a PrunePhase belongs to (none for starting, paused, baseline and done). */
export function timedPhaseOf(phase: PrunePhase): TimedPhase | undefined {
  return TIMED_PHASE_OF[phase];
}

/** The phases every round of `input` goes through, in order (a round that removes nothing ends after planning). */
export function roundPhasesOf(input: PruneWorkflowInput): TimedPhase[] {
  const tunes = input.fineTune !== undefined && input.fineTune.steps > 0;
  return ['scoring', 'merging', 'planning', 'surgery', ...(tunes ? (['fine-tuning'] as const) : []), 'evaluating'];
}

/** Where a phase's time went: wall seconds and the work done in them. */
export interface PhaseTiming {
  phase: TimedPhase;
  seconds: number;
  /** Images its compute processed (fine-tuning: the samples trained on); 0 for bookkeeping phases. */
  images: number;
  /** SGD steps (fine-tuning only). */
  steps?: number;
}

/**
 * How long a round took and how fast its work went. Not part of what the run computes: two runs
 * of the same input have the same metrics and models, and different timings.
 */
export interface RoundTiming {
  /** When the round began (round 0: the baseline measurement), ms since the epoch (the workflow's clock). */
  startedAt: number;
  seconds: number;
  /** In the order the round entered them. */
  phases: PhaseTiming[];
}

/** The work phase in progress, as the round logic knows it: its total from its plan, done from its finished activities. */
export interface PhaseWork {
  phase: WorkPhase;
  unit: WorkUnit;
  /** Units the phase does in all: the images of its shards, or the steps of its replicas and repetitions. */
  total: number;
  /** Units of its finished activities. */
  done: number;
  /** Images its finished activities processed. */
  images: number;
  /** When the phase began, ms since the epoch (the workflow's clock). */
  startedAt: number;
}

/** Samples in the batches [start, end) of a dataset of `size` samples cut into batches of `batchSize` (the last one may be short). */
export function samplesIn(batches: BatchRangeRef, batchSize: number, size: number): number {
  return Math.max(0, Math.min(batches.end * batchSize, size) - batches.start * batchSize);
}

/**
 * A round's clock: which phase it is in, since when, and the work of its work phase. The round
 * logic drives it; the host reads it for the progress query; its timing goes into the round's
 * metrics. Workflow-safe: `now` is Date.now, which a workflow replays deterministically.
 */
export class RoundClock {
  readonly startedAt: number;
  private readonly phases: PhaseTiming[] = [];
  private current: { timing: PhaseTiming; since: number } | undefined;
  private work: PhaseWork | undefined;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** The round enters `phase` (PrunePhase names); the work phase in progress ends unless `phase` continues it. */
  enter(phase: PrunePhase): void {
    const timed = timedPhaseOf(phase);
    if (timed === this.current?.timing.phase) return;
    this.stopCurrent();
    if (this.work !== undefined && timed !== this.work.phase) this.work = undefined;
    if (timed === undefined) return;
    let timing = this.phases.find((entry) => entry.phase === timed);
    if (timing === undefined) {
      timing = { phase: timed, seconds: 0, images: 0, ...(timed === 'fine-tuning' ? { steps: 0 } : {}) };
      this.phases.push(timing);
    }
    this.current = { timing, since: this.now() };
  }

  /** The work phase in progress has `units` more to do (fine-tuning states all its repetitions at once). */
  expect(phase: WorkPhase, units: number): void {
    this.enter(phase);
    if (this.work?.phase === phase) this.work.total += units;
    else this.work = { phase, unit: UNIT_OF_WORK_PHASE[phase], total: units, done: 0, images: 0, startedAt: this.now() };
  }

  /** An activity of `phase` finished: `units` (its images, or its steps) and the images it processed. */
  finished(phase: WorkPhase, units: number, images: number): void {
    if (this.work?.phase === phase) {
      this.work.done += units;
      this.work.images += images;
    }
    const timing = this.phases.find((entry) => entry.phase === phase);
    if (timing === undefined) return;
    timing.images += images;
    if (phase === 'fine-tuning') timing.steps = (timing.steps ?? 0) + units;
  }

  /** The work phase in progress, if the round is in one. */
  get phaseWork(): PhaseWork | undefined {
    return this.work === undefined ? undefined : { ...this.work };
  }

  /** The round so far: the phase in progress counted up to now. */
  timing(): RoundTiming {
    const now = this.now();
    const phases = this.phases.map((entry) => ({
      ...entry,
      seconds: seconds(entry.seconds * 1000 + (entry === this.current?.timing ? now - this.current.since : 0)),
    }));
    return { startedAt: this.startedAt, seconds: seconds(now - this.startedAt), phases };
  }

  private stopCurrent(): void {
    if (this.current === undefined) return;
    this.current.timing.seconds = seconds(this.current.timing.seconds * 1000 + this.now() - this.current.since);
    this.current = undefined;
  }
}

/** Images per second of a phase of a round; undefined when the round did not time it or it did no work. */
export function phaseImagesPerSecond(timing: RoundTiming | undefined, phase: WorkPhase): number | undefined {
  const entry = timing?.phases.find((candidate) => candidate.phase === phase);
  return entry === undefined || entry.images === 0 || entry.seconds <= 0 ? undefined : entry.images / entry.seconds;
}

/** Milliseconds as seconds, to the millisecond. */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** A round's metrics without its timing: what two runs of the same input agree on. */
export function withoutTiming(round: RoundMetrics): RoundMetrics {
  const rest = { ...round };
  delete rest.timing;
  return rest;
}

/** A run's result without its rounds' timings: what two runs of the same input agree on, byte for byte. */
export function resultWithoutTiming(result: PruneWorkflowResult): PruneWorkflowResult {
  return { ...result, baseline: withoutTiming(result.baseline), history: result.history.map(withoutTiming) };
}
