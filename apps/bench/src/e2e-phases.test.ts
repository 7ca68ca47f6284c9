import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { activitySpans, medianTimings, phaseOf, roundTimings, unionMs } from './e2e-phases';
import type { HistoryEventLike } from './e2e-phases';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = HistoryEventLike;

/** A history in the server's shapes: activities scheduled, started and completed at given milliseconds. */
function history(activities: [type: string, scheduled: number, started: number, completed: number][], completedAt: number): HistoryEvent[] {
  let id = 1;
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  const events: HistoryEvent[] = [{ eventId: id++, eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, eventTime: at(0) }];
  for (const [type, scheduled, started, completed] of activities) {
    const scheduledEventId = id++;
    events.push({ eventId: scheduledEventId, eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, eventTime: at(scheduled), activityTaskScheduledEventAttributes: { activityType: { name: type } } });
    events.push({ eventId: id++, eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, eventTime: at(started), activityTaskStartedEventAttributes: { scheduledEventId } });
    events.push({ eventId: id++, eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, eventTime: at(completed), activityTaskCompletedEventAttributes: { scheduledEventId } });
  }
  events.push({ eventId: id, eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, eventTime: at(completedAt) });
  return events;
}

describe('round timings from a workflow history', () => {
  it('counts overlapping intervals once', () => {
    assert.equal(unionMs([{ start: 0, end: 10 }, { start: 5, end: 12 }, { start: 20, end: 25 }, { start: 21, end: 22 }]), 17);
    assert.equal(unionMs([]), 0);
  });

  it('maps every pruneModel activity to its phase', () => {
    assert.equal(phaseOf('computeGradStats'), 'scoring');
    assert.equal(phaseOf('averageModels'), 'fine-tuning');
    assert.equal(phaseOf('mergeEvaluations'), 'evaluation');
    assert.equal(phaseOf('somethingNew'), 'other');
  });

  it('splits a round into phases and the overhead between and around them', () => {
    const events = history(
      [
        ['planEvaluationShards', 10, 12, 20],
        ['evaluateShard', 25, 26, 100],
        ['evaluateShard', 25, 27, 90],
        ['mergeEvaluations', 105, 106, 110],
        ['planScoringShards', 115, 116, 120],
        ['computeGradStats', 122, 123, 300],
        ['computeGradStats', 122, 125, 310],
        ['mergeAndScore', 315, 316, 330],
        ['planRound', 332, 333, 335],
        ['applySurgery', 337, 338, 350],
        ['fineTuneReplica', 352, 353, 500],
        ['fineTuneReplica', 352, 354, 490],
        ['averageModels', 505, 506, 510],
        ['planEvaluationShards', 512, 513, 514],
        ['evaluateShard', 516, 517, 580],
        ['mergeEvaluations', 585, 586, 590],
      ],
      600,
    );
    assert.equal(activitySpans(events).length, 16);
    const timings = roundTimings(events);
    assert.equal(timings.baselineMs, 110);
    assert.equal(timings.roundMs, 490);
    assert.deepEqual(timings.phaseMs, { scoring: 4 + 187, merge: 14, planning: 2, surgery: 12, 'fine-tuning': 147 + 4, evaluation: 1 + 63 + 4, other: 0 });
    assert.equal(timings.overheadMs, 490 - (191 + 14 + 2 + 12 + 151 + 68));
    assert.deepEqual(timings.activities.scoring, { count: 3, busyMs: 4 + 177 + 185, queuedMs: 1 + 1 + 3 });
  });

  it('takes the median of each number over repeated rounds', () => {
    const timings = (roundMs: number, scoring: number) => roundTimings(history([['mergeEvaluations', 1, 2, 10], ['planScoringShards', 12, 13, 13 + scoring]], 10 + roundMs));
    const median = medianTimings([timings(100, 50), timings(300, 10), timings(200, 30)]);
    assert.equal(median.roundMs, 200);
    assert.equal(median.phaseMs.scoring, 30);
    assert.equal(median.overheadMs, 200 - 30);
    assert.equal(median.activities.scoring.count, 1);
    assert.equal(medianTimings([timings(100, 50), timings(300, 10)]).roundMs, 200);
    assert.throws(() => medianTimings([]), /no rounds/);
  });

  it('refuses a history without a baseline and a round', () => {
    assert.throws(() => roundTimings(history([['planScoringShards', 1, 2, 3]], 10)), /no baseline evaluation followed by a round/);
    assert.throws(() => roundTimings(history([], 10).slice(0, 1)), /has not completed/);
  });
});
