import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRateAt, validateSchedule } from './lr-schedule';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} vs ${expected}`);

test('cosine decays from the base rate to the minimum over the run', () => {
  const schedule = { kind: 'cosine', baseLr: 0.1, totalSteps: 100 } as const;
  close(learningRateAt(schedule, 0), 0.1);
  close(learningRateAt(schedule, 50), 0.05);
  close(learningRateAt(schedule, 100), 0);
  close(learningRateAt({ ...schedule, minLr: 0.001 }, 100), 0.001);
});

test('warm-up rises linearly, then the schedule starts at the base rate', () => {
  const schedule = { kind: 'cosine', baseLr: 0.1, totalSteps: 110, warmupSteps: 10 } as const;
  close(learningRateAt(schedule, 0), 0.01);
  close(learningRateAt(schedule, 4), 0.05);
  close(learningRateAt(schedule, 10), 0.1);
  close(learningRateAt(schedule, 60), 0.05);
  close(learningRateAt({ kind: 'constant', baseLr: 0.2, warmupSteps: 2 }, 0), 0.1);
});

test('step multiplies by gamma at each milestone', () => {
  const schedule = { kind: 'step', baseLr: 0.1, milestones: [100, 150] } as const;
  close(learningRateAt(schedule, 99), 0.1);
  close(learningRateAt(schedule, 100), 0.01);
  close(learningRateAt(schedule, 150), 0.001);
  close(learningRateAt({ ...schedule, gamma: 0.5 }, 120), 0.05);
});

test('validation names the bad field', () => {
  assert.throws(() => validateSchedule({ kind: 'cosine', baseLr: 0, totalSteps: 5 }), /baseLr must be a positive number/);
  assert.throws(() => validateSchedule({ kind: 'step', baseLr: 0.1, milestones: [5, 3] }), /ascending/);
  assert.throws(() => validateSchedule({ kind: 'constant', baseLr: 0.1, warmupSteps: 1.5 }), /warmupSteps/);
});
