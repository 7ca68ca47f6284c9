/**
 * Learning-rate schedules, evaluated per step so that a run resumed at any step continues on
 * exactly the same curve. All are pure functions of (schedule, step).
 */
export type LearningRateSchedule =
  | { kind: 'constant'; baseLr: number; warmupSteps?: number }
  | {
      kind: 'cosine';
      baseLr: number;
      /** Steps of the whole run (warm-up included): the rate reaches `minLr` there. */
      totalSteps: number;
      warmupSteps?: number;
      /** Default 0. */
      minLr?: number;
    }
  | {
      kind: 'step';
      baseLr: number;
      /** Steps at which the rate is multiplied by `gamma`, ascending. */
      milestones: readonly number[];
      /** Default 0.1. */
      gamma?: number;
      warmupSteps?: number;
    };

export type ScheduleKind = LearningRateSchedule['kind'];
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['cosine', 'step', 'constant'];

/**
 * The rate of (0-based) step `step`. Warm-up rises linearly from baseLr/warmupSteps at step 0 to
 * baseLr at step warmupSteps; cosine then decays from baseLr to minLr over the remaining steps.
 */
export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  const warmup = schedule.warmupSteps ?? 0;
  if (step < warmup) return (schedule.baseLr * (step + 1)) / warmup;
  switch (schedule.kind) {
    case 'constant':
      return schedule.baseLr;
    case 'cosine': {
      const minLr = schedule.minLr ?? 0;
      const span = Math.max(1, schedule.totalSteps - warmup);
      const progress = Math.min(1, (step - warmup) / span);
      return minLr + ((schedule.baseLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
    case 'step': {
      const passed = schedule.milestones.filter((milestone) => step >= milestone).length;
      return schedule.baseLr * (schedule.gamma ?? 0.1) ** passed;
    }
  }
}

/** Checks a schedule's numbers; the message names the field that is wrong. */
export function validateSchedule(schedule: LearningRateSchedule): void {
  const fail = (what: string): never => {
    throw new Error(`learning-rate schedule: ${what}`);
  };
  if (!(schedule.baseLr > 0) || !Number.isFinite(schedule.baseLr)) fail(`baseLr must be a positive number, got ${schedule.baseLr}`);
  const warmup = schedule.warmupSteps ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) fail(`warmupSteps must be a non-negative integer, got ${warmup}`);
  if (schedule.kind === 'cosine') {
    if (!Number.isInteger(schedule.totalSteps) || schedule.totalSteps < 1) fail(`totalSteps must be a positive integer, got ${schedule.totalSteps}`);
    const minLr = schedule.minLr ?? 0;
    if (!(minLr >= 0 && minLr <= schedule.baseLr)) fail(`minLr must be in [0, baseLr], got ${minLr}`);
  }
  if (schedule.kind === 'step') {
    const gamma = schedule.gamma ?? 0.1;
    if (!(gamma > 0 && gamma <= 1)) fail(`gamma must be in (0, 1], got ${gamma}`);
    schedule.milestones.forEach((milestone, i) => {
      if (!Number.isInteger(milestone) || milestone < 1) fail(`milestone ${milestone} must be a positive integer step`);
      if (i > 0 && milestone <= (schedule.milestones[i - 1] ?? 0)) fail('milestones must be ascending');
    });
  }
}
