import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { liveProgress } from './live-progress';
import type { RunningWork } from './live-progress';
import type { PruneProgress, RoundMetrics } from './prune-types';
import type { TimedPhase } from './run-timing';
import { roundMetrics } from './testing/round-metrics';

const ALL_PHASES: TimedPhase[] = ['scoring', 'merging', 'planning', 'surgery', 'fine-tuning', 'evaluating'];

function metrics(round: number, seconds: number, phases: [TimedPhase, number][]): RoundMetrics {
  return roundMetrics(round, { startedAt: round * 100_000, seconds, phases: phases.map(([phase, time]) => ({ phase, seconds: time, images: 0 })) });
}

/** Round 1 of 3, 20 of 100 fine-tuning steps finished (two replicas of 10), after scoring, merging, planning and surgery. */
function fineTuning(overrides: Partial<PruneProgress> = {}): PruneProgress {
  return {
    phase: 'fine-tuning',
    round: 1,
    rounds: 3,
    shardsDone: 0,
    shardsTotal: 2,
    currentModelArtifactId: '0'.repeat(64),
    baseline: { ...metrics(0, 10, [['evaluating', 10]]), timing: { startedAt: 0, seconds: 10, phases: [{ phase: 'evaluating', seconds: 10, images: 1000 }] } },
    history: [],
    paused: false,
    cancelRequested: false,
    roundPhases: ALL_PHASES,
    work: { phase: 'fine-tuning', unit: 'steps', total: 100, done: 20, images: 640, startedAt: 34_000 },
    roundTiming: {
      startedAt: 10_000,
      seconds: 30,
      phases: [
        { phase: 'scoring', seconds: 20, images: 512 },
        { phase: 'merging', seconds: 1, images: 0 },
        { phase: 'planning', seconds: 1, images: 0 },
        { phase: 'surgery', seconds: 2, images: 0 },
        { phase: 'fine-tuning', seconds: 6, images: 640, steps: 20 },
      ],
    },
    ...overrides,
  };
}

const replica = (done: number, worker: string): RunningWork => ({ activity: 'fineTuneReplica', done, total: 50, samples: done * 32, worker, startedAt: 44_000 });

describe('liveProgress', () => {
  it('adds the running activities to the finished ones and estimates the phase and the run', () => {
    const live = liveProgress(fineTuning(), [replica(20, 'w1')], 54_000);
    assert.deepEqual(live.work, { phase: 'fine-tuning', unit: 'steps', done: 40, total: 100, images: 1280, elapsedSeconds: 20, imagesPerSecond: 64, etaSeconds: 30 });
    assert.equal(live.run.elapsedSeconds, 54);
    // 30 s of fine-tuning left, then this round's evaluation (the baseline's 10 s), then two rounds
    // of 20 + 1 + 1 + 2 + 50 (fine-tuning: 20 s done + 30 s to go) + 10 s.
    assert.equal(live.run.etaSeconds, 30 + 10 + 2 * 84);
    assert.deepEqual(live.running, [{ activity: 'fineTuneReplica', phase: 'fine-tuning', worker: 'w1', counts: 'steps', done: 20, total: 50, images: 640, imagesPerSecond: 64 }]);
  });

  it('counts images, not batches, for scoring and evaluation, and never beyond the total', () => {
    const progress = fineTuning({ phase: 'scoring', work: { phase: 'scoring', unit: 'images', total: 64, done: 32, images: 32, startedAt: 0 } });
    const running: RunningWork[] = [
      { activity: 'computeGradStats', done: 2, total: 4, samples: 16, startedAt: 0 },
      { activity: 'fineTuneReplica', done: 3, total: 4, samples: 24, startedAt: 0 },
    ];
    const live = liveProgress(progress, running, 10_000);
    assert.equal(live.work?.done, 48, 'the fine-tuning call is not scoring work');
    assert.equal(live.work?.images, 48);
    const over = liveProgress(progress, [{ activity: 'computeGradStats', done: 4, total: 4, samples: 40, startedAt: 0 }], 10_000);
    assert.equal(over.work?.done, 64);
  });

  it('gives no run estimate before every remaining phase has been timed, while paused, and 0 when done', () => {
    const roundOne = fineTuning({ phase: 'scoring', work: { phase: 'scoring', unit: 'images', total: 64, done: 32, images: 32, startedAt: 0 }, roundTiming: { startedAt: 0, seconds: 1, phases: [] } });
    assert.equal(liveProgress(roundOne, [], 10_000).run.etaSeconds, undefined, 'fine-tuning has not run yet');
    assert.notEqual(liveProgress(roundOne, [], 10_000).work?.etaSeconds, undefined, 'the phase has its own estimate');
    assert.equal(liveProgress(fineTuning({ phase: 'paused', paused: true }), [], 54_000).run.etaSeconds, undefined);
    assert.equal(liveProgress(fineTuning({ phase: 'done' }), [], 54_000).run.etaSeconds, 0);
  });

  it('estimates later rounds from the last finished round', () => {
    const between = fineTuning({
      phase: 'starting',
      round: 2,
      history: [metrics(1, 40, [['scoring', 10], ['merging', 1], ['planning', 1], ['surgery', 1], ['fine-tuning', 20], ['evaluating', 7]])],
    });
    delete between.work;
    delete between.roundTiming;
    assert.equal(liveProgress(between, [], 200_000).run.etaSeconds, 2 * 40);
  });
});
