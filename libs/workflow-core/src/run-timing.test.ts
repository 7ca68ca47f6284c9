import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PruneWorkflowInput, PruneWorkflowResult, RoundMetrics } from './prune-types';
import { RoundClock, phaseImagesPerSecond, resultWithoutTiming, roundPhasesOf, samplesIn } from './run-timing';
import type { PhaseWork } from './run-timing';
import { roundMetrics } from './testing/round-metrics';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('RoundClock', () => {
  it('times each phase, counts its work, and keeps the work phase through weight averaging', () => {
    const clock = manualClock();
    const round = new RoundClock(clock.now);
    // Read through a function: an assertion about the getter must not narrow its later readings.
    const work = (): PhaseWork | undefined => round.phaseWork;
    round.enter('scoring');
    clock.advance(500);
    round.expect('scoring', 64);
    assert.deepEqual(work(), { phase: 'scoring', unit: 'images', total: 64, done: 0, images: 0, startedAt: 1_000_500 });
    clock.advance(1500);
    round.finished('scoring', 40, 40);
    round.finished('scoring', 24, 24);
    assert.equal(work()?.done, 64);
    round.enter('merging');
    assert.equal(work(), undefined, 'the work phase ends with its phase');
    clock.advance(1000);
    round.enter('fine-tuning');
    round.expect('fine-tuning', 8);
    clock.advance(2000);
    round.finished('fine-tuning', 2, 16);
    round.finished('fine-tuning', 2, 16);
    round.enter('averaging');
    clock.advance(500);
    assert.equal(work()?.phase, 'fine-tuning', 'averaging between repetitions is part of fine-tuning');
    round.enter('fine-tuning');
    clock.advance(1500);
    round.finished('fine-tuning', 2, 16);
    round.finished('fine-tuning', 2, 16);
    assert.deepEqual([work()?.done, work()?.total, work()?.images], [8, 8, 64]);
    round.enter('evaluating');
    clock.advance(250);

    const timing = round.timing();
    assert.equal(timing.startedAt, 1_000_000);
    assert.equal(timing.seconds, 7.25);
    assert.deepEqual(timing.phases, [
      { phase: 'scoring', seconds: 2, images: 64 },
      { phase: 'merging', seconds: 1, images: 0 },
      { phase: 'fine-tuning', seconds: 4, images: 64, steps: 8 },
      { phase: 'evaluating', seconds: 0.25, images: 0 },
    ]);
    assert.equal(
      timing.phases.reduce((sum, phase) => sum + phase.seconds, 0),
      timing.seconds,
      'phases entered back to back add up to the round',
    );
    assert.equal(phaseImagesPerSecond(timing, 'fine-tuning'), 16);
    assert.equal(phaseImagesPerSecond(timing, 'evaluating'), undefined, 'no work, no rate');
  });

  it('leaves the baseline and the boundary phases untimed', () => {
    const clock = manualClock();
    const round = new RoundClock(clock.now);
    round.enter('baseline');
    clock.advance(100);
    round.enter('evaluating');
    round.expect('evaluating', 32);
    clock.advance(900);
    round.finished('evaluating', 32, 32);
    round.enter('done');
    clock.advance(5000);
    assert.deepEqual(round.timing().phases, [{ phase: 'evaluating', seconds: 0.9, images: 32 }]);
  });
});

describe('samplesIn', () => {
  it('counts the short last batch', () => {
    assert.equal(samplesIn({ start: 0, end: 2 }, 8, 20), 16);
    assert.equal(samplesIn({ start: 2, end: 3 }, 8, 20), 4);
    assert.equal(samplesIn({ start: 0, end: 3 }, 8, 20), 20);
    assert.equal(samplesIn({ start: 3, end: 3 }, 8, 20), 0);
  });
});

describe('roundPhasesOf', () => {
  const input = (steps: number): PruneWorkflowInput => ({
    modelArtifactId: 'a'.repeat(64),
    criterion: 'l1',
    evaluation: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8 },
    plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 2 },
    seed: 0,
    ...(steps === 0 ? {} : { fineTune: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps, learningRate: 0.01 } }),
  });

  it('has fine-tuning only when the run fine-tunes', () => {
    assert.deepEqual(roundPhasesOf(input(3)), ['scoring', 'merging', 'planning', 'surgery', 'fine-tuning', 'evaluating']);
    assert.deepEqual(roundPhasesOf(input(0)), ['scoring', 'merging', 'planning', 'surgery', 'evaluating']);
  });
});

describe('resultWithoutTiming', () => {
  it('keeps everything but the timings', () => {
    const round = (index: number): RoundMetrics => roundMetrics(index, { startedAt: index, seconds: index, phases: [] });
    const result: PruneWorkflowResult = { modelArtifactId: '1'.repeat(64), resultRound: 1, stoppedBecause: 'rounds-done', baseline: round(0), history: [round(1)], removedTotal: 1 };
    const stripped = resultWithoutTiming(result);
    assert.equal(stripped.baseline.timing, undefined);
    assert.equal(stripped.history[0]?.timing, undefined);
    assert.deepEqual({ ...stripped.history[0], timing: round(1).timing }, round(1));
    assert.ok(result.history[0]?.timing !== undefined, 'the result itself is left alone');
  });
});
