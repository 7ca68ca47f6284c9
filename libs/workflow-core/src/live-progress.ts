import type { PrunePhase, PruneProgress, RoundMetrics } from './prune-types';
import { UNIT_OF_WORK_PHASE, WORK_PHASE_OF_ACTIVITY, timedPhaseOf } from './run-timing';
import type { RoundTiming, TimedPhase, WorkPhase, WorkUnit } from './run-timing';

/** A compute activity running now, as its latest heartbeat reports it. */
export interface RunningWork {
  /** Its activity type: computeGradStats, fineTuneReplica or evaluateShard. */
  activity: string;
  /** Batches (scoring, evaluation) or steps (fine-tuning) this attempt has done, of `total`. */
  done: number;
  total: number;
  /** Samples this attempt has processed. */
  samples: number;
  /** The worker running it (host:port), when the executor names one. */
  worker?: string;
  /** When this attempt started, ms since the epoch. */
  startedAt?: number;
}

/** The work phase in progress: finished and running activities together. */
export interface LiveWork {
  phase: WorkPhase;
  unit: WorkUnit;
  done: number;
  total: number;
  /** Images processed so far in the phase (fine-tuning: samples trained on). */
  images: number;
  elapsedSeconds: number;
  /** Absent until some work is done. */
  imagesPerSecond?: number;
  etaSeconds?: number;
}

/** One running activity: what `--verbose` shows per worker. */
export interface LiveTask {
  activity: string;
  phase: WorkPhase;
  worker?: string;
  /** What the activity counts as it goes: batches (scoring, evaluation) or steps (fine-tuning), done and in total. */
  counts: 'batches' | 'steps';
  done: number;
  total: number;
  images: number;
  imagesPerSecond?: number;
}

/** Where a run is, from the work itself: what `status --json`, the live view and the metrics show. */
export interface LiveProgress {
  phase: PrunePhase;
  round: number;
  rounds: number;
  /** Asked to pause (it pauses at the next round boundary), or paused. */
  paused: boolean;
  /** Asked to stop at the next round boundary. */
  cancelRequested: boolean;
  work?: LiveWork;
  run: {
    /** Since the baseline measurement began; absent for runs that recorded no timing. */
    elapsedSeconds?: number;
    /** Absent until every phase still to come has been timed once in this run (or while paused). */
    etaSeconds?: number;
  };
  running: LiveTask[];
}

/** A running activity's units: images for scoring and evaluation (its samples), steps for fine-tuning. */
function unitsOf(task: RunningWork, unit: WorkUnit): number {
  return unit === 'images' ? task.samples : task.done;
}

function rate(amount: number, seconds: number): number | undefined {
  return amount > 0 && seconds > 0 ? amount / seconds : undefined;
}

function runningTasks(running: readonly RunningWork[], now: number): LiveTask[] {
  return running.flatMap((task): LiveTask[] => {
    const phase = WORK_PHASE_OF_ACTIVITY[task.activity];
    if (phase === undefined) return [];
    const perSecond = task.startedAt === undefined ? undefined : rate(task.samples, (now - task.startedAt) / 1000);
    return [
      {
        activity: task.activity,
        phase,
        ...(task.worker === undefined ? {} : { worker: task.worker }),
        counts: UNIT_OF_WORK_PHASE[phase] === 'steps' ? 'steps' : 'batches',
        done: task.done,
        total: task.total,
        images: task.samples,
        ...(perSecond === undefined ? {} : { imagesPerSecond: perSecond }),
      },
    ];
  });
}

function liveWork(progress: PruneProgress, running: readonly RunningWork[], now: number): LiveWork | undefined {
  const work = progress.work;
  if (work === undefined) return undefined;
  const ofPhase = running.filter((task) => WORK_PHASE_OF_ACTIVITY[task.activity] === work.phase);
  const done = Math.min(work.total, work.done + ofPhase.reduce((sum, task) => sum + unitsOf(task, work.unit), 0));
  const images = work.images + ofPhase.reduce((sum, task) => sum + task.samples, 0);
  const elapsedSeconds = Math.max(0, (now - work.startedAt) / 1000);
  const imagesPerSecond = rate(images, elapsedSeconds);
  const unitsPerSecond = rate(done, elapsedSeconds);
  return {
    phase: work.phase,
    unit: work.unit,
    done,
    total: work.total,
    images,
    elapsedSeconds,
    ...(imagesPerSecond === undefined ? {} : { imagesPerSecond }),
    ...(unitsPerSecond === undefined ? {} : { etaSeconds: (work.total - done) / unitsPerSecond }),
  };
}

/**
 * Seconds still to go: the phase in progress at its current rate, then each phase still to come
 * at the duration it took last in this run (this round's finished phases, else earlier rounds',
 * else the baseline's evaluation). Later rounds work on smaller models, so this errs long.
 */
function runEta(progress: PruneProgress, work: LiveWork | undefined): number | undefined {
  if (progress.phase === 'done') return 0;
  if (progress.phase === 'paused' || progress.roundPhases === undefined) return undefined;
  const lastSeconds = new Map<TimedPhase, number>();
  const timings: (RoundTiming | undefined)[] = [progress.baseline?.timing, ...progress.history.map((round: RoundMetrics) => round.timing)];
  const current = timedPhaseOf(progress.phase);
  for (const timing of timings) for (const phase of timing?.phases ?? []) lastSeconds.set(phase.phase, phase.seconds);
  for (const phase of progress.roundTiming?.phases ?? []) if (phase.phase !== current) lastSeconds.set(phase.phase, phase.seconds);
  let currentLeft = 0;
  if (work !== undefined && timedPhaseOf(work.phase) === current) {
    if (work.etaSeconds === undefined) return undefined;
    currentLeft = work.etaSeconds;
    lastSeconds.set(work.phase, work.elapsedSeconds + work.etaSeconds);
  }
  const phases = progress.roundPhases;
  const sum = (list: readonly TimedPhase[]): number | undefined =>
    list.reduce<number | undefined>((total, phase) => (total === undefined || !lastSeconds.has(phase) ? undefined : total + (lastSeconds.get(phase) as number)), 0);
  // Round 0 is the baseline: after its evaluation every round is still to come.
  const laterInRound = progress.round === 0 ? [] : phases.slice(current === undefined ? 0 : phases.indexOf(current) + 1);
  const roundsAfter = progress.round === 0 ? progress.rounds : progress.rounds - progress.round;
  const rest = sum(laterInRound);
  const perRound = roundsAfter > 0 ? sum(phases) : 0;
  if (rest === undefined || perRound === undefined) return undefined;
  return currentLeft + rest + roundsAfter * perRound;
}

/**
 * The progress a client shows: the workflow's `progress` query (totals, finished work, timings)
 * combined with the heartbeats of the activities running now (`running`), at time `now` (ms).
 * Nothing per batch goes through the workflow's history: heartbeats live in its pending activities.
 */
export function liveProgress(progress: PruneProgress, running: readonly RunningWork[], now: number): LiveProgress {
  const work = liveWork(progress, running, now);
  const startedAt = progress.baseline?.timing?.startedAt ?? (progress.round === 0 ? progress.roundTiming?.startedAt : undefined);
  const etaSeconds = runEta(progress, work);
  return {
    phase: progress.phase,
    round: progress.round,
    rounds: progress.rounds,
    paused: progress.paused,
    cancelRequested: progress.cancelRequested,
    ...(work === undefined ? {} : { work }),
    run: {
      ...(startedAt === undefined ? {} : { elapsedSeconds: Math.max(0, (now - startedAt) / 1000) }),
      ...(etaSeconds === undefined ? {} : { etaSeconds }),
    },
    running: runningTasks(running, now),
  };
}

/** Running activities alone (a comparison has no rounds to estimate): per-task rates. */
export function liveTasks(running: readonly RunningWork[], now: number): LiveTask[] {
  return runningTasks(running, now);
}
