import { temporal } from '@temporalio/proto';

type Id = { toString(): string } | number | null;

/** The fields of a history event these timings read (the SDK's IHistoryEvent has them). */
export interface HistoryEventLike {
  eventId?: Id;
  eventType?: number | null;
  eventTime?: { seconds?: Id; nanos?: number | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: Id } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: Id } | null;
}

type HistoryEvent = HistoryEventLike;
const EventType = temporal.api.enums.v1.EventType;

/** The phases of a round, as the report names them; each activity type belongs to one. */
export const PHASES = ['scoring', 'merge', 'planning', 'surgery', 'fine-tuning', 'evaluation', 'other'] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_OF: Readonly<Record<string, Phase>> = {
  planScoringShards: 'scoring',
  computeGradStats: 'scoring',
  mergeAndScore: 'merge',
  planRound: 'planning',
  applySurgery: 'surgery',
  fineTuneReplica: 'fine-tuning',
  averageModels: 'fine-tuning',
  planEvaluationShards: 'evaluation',
  evaluateShard: 'evaluation',
  mergeEvaluations: 'evaluation',
};

export const phaseOf = (activityType: string): Phase => PHASE_OF[activityType] ?? 'other';

/** One activity's own work: from the attempt that succeeded starting to its completion. */
export interface ActivitySpan {
  type: string;
  scheduledMs: number;
  startedMs: number;
  completedMs: number;
}

export interface Interval {
  start: number;
  end: number;
}

/** Total length of the union of intervals (overlapping parallel activities count once). */
export function unionMs(intervals: readonly Interval[]): number {
  const sorted = [...intervals].filter((interval) => interval.end > interval.start).sort((a, b) => a.start - b.start);
  let total = 0;
  let current: Interval | undefined;
  for (const interval of sorted) {
    if (current === undefined || interval.start > current.end) {
      if (current !== undefined) total += current.end - current.start;
      current = { ...interval };
    } else {
      current.end = Math.max(current.end, interval.end);
    }
  }
  return current === undefined ? total : total + current.end - current.start;
}

function timeMs(event: HistoryEvent): number {
  const whole = Number(event.eventTime?.seconds?.toString() ?? 0);
  return whole * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
}

/** Every completed activity of one workflow run's history, in the order they were scheduled. */
export function activitySpans(events: readonly HistoryEvent[]): ActivitySpan[] {
  const scheduled = new Map<string, { type: string; at: number }>();
  const started = new Map<string, number>();
  const spans: ActivitySpan[] = [];
  for (const event of events) {
    const id = String(event.eventId ?? '');
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      scheduled.set(id, { type: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', at: timeMs(event) });
    } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      started.set(String(event.activityTaskStartedEventAttributes?.scheduledEventId ?? ''), timeMs(event));
    } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const scheduledId = String(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? '');
      const schedule = scheduled.get(scheduledId);
      const start = started.get(scheduledId);
      if (schedule !== undefined && start !== undefined) spans.push({ type: schedule.type, scheduledMs: schedule.at, startedMs: start, completedMs: timeMs(event) });
    }
  }
  return spans.sort((a, b) => a.scheduledMs - b.scheduledMs);
}

export interface RoundTimings {
  /** From the workflow turning to the round (the baseline's last activity done) to its completion. */
  roundMs: number;
  /** Per phase: wall time during which at least one of its activities was working. */
  phaseMs: Record<Phase, number>;
  /** The round minus every phase: Temporal scheduling, workflow tasks, payload round trips. */
  overheadMs: number;
  /** The input model's evaluation before the round (not part of it). */
  baselineMs: number;
  /** Per phase: the activities and the sum of their own times (a fan-out's parallelism shows against phaseMs). */
  activities: Record<Phase, { count: number; busyMs: number; queuedMs: number }>;
}

/**
 * Splits a one-round pruneModel run (baseline evaluation, then the round) into phases from its
 * history: each phase is the time its activities were working (their own execution, started to
 * completed, parallel ones counted once); what remains of the round is orchestration overhead.
 */
export function roundTimings(events: readonly HistoryEvent[]): RoundTimings {
  const spans = activitySpans(events);
  const workflowStart = events.length === 0 ? 0 : timeMs(events[0] as HistoryEvent);
  const closed = events.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  if (closed === undefined) throw new Error('the run has not completed');
  const end = timeMs(closed);
  const firstRoundActivity = spans.findIndex((span) => span.type === 'planScoringShards');
  if (firstRoundActivity <= 0) throw new Error('no baseline evaluation followed by a round in this history');
  const baseline = spans.slice(0, firstRoundActivity);
  const round = spans.slice(firstRoundActivity);
  const roundStart = Math.max(...baseline.map((span) => span.completedMs));
  const phaseMs = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
  const activities = Object.fromEntries(PHASES.map((phase) => [phase, { count: 0, busyMs: 0, queuedMs: 0 }])) as RoundTimings['activities'];
  for (const phase of PHASES) {
    const mine = round.filter((span) => phaseOf(span.type) === phase);
    phaseMs[phase] = unionMs(mine.map((span) => ({ start: span.startedMs, end: span.completedMs })));
    activities[phase] = {
      count: mine.length,
      busyMs: mine.reduce((sum, span) => sum + span.completedMs - span.startedMs, 0),
      queuedMs: mine.reduce((sum, span) => sum + span.startedMs - span.scheduledMs, 0),
    };
  }
  const roundMs = end - roundStart;
  const worked = PHASES.reduce((sum, phase) => sum + phaseMs[phase], 0);
  return { roundMs, phaseMs, overheadMs: roundMs - worked, baselineMs: roundStart - workflowStart, activities };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Each number the median over several measurements of the same round (activity counts from the first). */
export function medianTimings(rounds: readonly RoundTimings[]): RoundTimings {
  const first = rounds[0];
  if (first === undefined) throw new Error('no rounds to take the median of');
  const of = (pick: (timings: RoundTimings) => number): number => median(rounds.map(pick));
  return {
    roundMs: of((timings) => timings.roundMs),
    phaseMs: Object.fromEntries(PHASES.map((phase) => [phase, of((timings) => timings.phaseMs[phase])])) as Record<Phase, number>,
    overheadMs: of((timings) => timings.overheadMs),
    baselineMs: of((timings) => timings.baselineMs),
    activities: Object.fromEntries(
      PHASES.map((phase) => [
        phase,
        { count: first.activities[phase].count, busyMs: of((timings) => timings.activities[phase].busyMs), queuedMs: of((timings) => timings.activities[phase].queuedMs) },
      ]),
    ) as RoundTimings['activities'],
  };
}
