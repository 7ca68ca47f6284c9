import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cumulativeGoalFraction } from './removal-schedule';
import { planRemoval } from './plan-removal';
import { handModel } from './testing/hand-model';

const close = (actual: number, expected: number): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

test('linear schedule removes the same share of the original every round', () => {
  const goals = [1, 2, 3, 4].map((round) => cumulativeGoalFraction(0.5, round, 4, 'linear'));
  [0.125, 0.25, 0.375, 0.5].forEach((expected, i) => close(goals[i], expected));
});

test('geometric schedule keeps (1-f)^(r/R) of the original after round r', () => {
  const goals = [1, 2, 3, 4].map((round) => cumulativeGoalFraction(0.75, round, 4, 'geometric'));
  [1 - Math.pow(0.25, 0.25), 0.5, 1 - Math.pow(0.25, 0.75), 0.75].forEach((expected, i) => close(goals[i], expected));
  // The same share of what is left goes every round.
  const kept = [1, ...goals.map((g) => 1 - g)];
  for (let r = 1; r < kept.length; r += 1) {
    close(kept[r] / kept[r - 1], Math.pow(0.25, 0.25));
  }
});

test('the last round reaches the target exactly under both schedules', () => {
  for (const fraction of [0.1, 0.3, 0.7, 0.9]) {
    assert.equal(cumulativeGoalFraction(fraction, 3, 3, 'linear'), fraction);
    assert.equal(cumulativeGoalFraction(fraction, 3, 3, 'geometric'), fraction);
  }
});

test('rounds, round and schedule are checked', () => {
  const roundError = /round must be an integer from 1 to rounds \(3\), got 0/;
  assert.throws(() => cumulativeGoalFraction(0.5, 0, 3, 'linear'), roundError);
  assert.throws(() => cumulativeGoalFraction(0.5, 4, 3, 'linear'), /got 4/);
  assert.throws(() => cumulativeGoalFraction(0.5, 1, 0, 'linear'), /rounds must be an integer >= 1, got 0/);
  assert.throws(() => cumulativeGoalFraction(0.5, 1.5, 3, 'linear'), /got 1.5/);
  const scheduleError = /schedule must be one of linear, geometric, got "cosine"/;
  // @ts-expect-error an unknown schedule from untyped input
  assert.throws(() => cumulativeGoalFraction(0.5, 1, 3, 'cosine'), scheduleError);
});

/** 100 channels of one parameter each plus a 10-channel output: every group is worth 1 of 110. */
function wideModel(): ReturnType<typeof handModel> {
  return handModel({ layers: [{ name: 'a', width: 50 }, { name: 'b', width: 50 }, { name: 'out', width: 10 }] });
}

for (const schedule of ['linear', 'geometric'] as const) {
  test(`a ${schedule} run over rounds 1..R meets each round's cumulative goal by at most one group`, () => {
    const { graph, cost } = wideModel();
    const scores = Object.fromEntries(graph.groups.map((g) => [g.id, (g.index * 37) % 101]));
    const rounds = 4;
    const removed: string[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      const target = { metric: 'params', fraction: 0.6 } as const;
      const plan = planRemoval({ graph, scores, target, removedGroupIds: removed, round, rounds, schedule }, cost);
      close(plan.goalFraction, cumulativeGoalFraction(0.6, round, rounds, schedule));
      assert.equal(plan.reachedGoal, true);
      assert.ok(plan.removedFraction >= plan.goalFraction - 1e-12);
      assert.ok(plan.removedFraction < plan.goalFraction + 1 / 110, 'overshoots by less than one group');
      assert.equal(plan.metricBefore, 110 - removed.length);
      removed.push(...plan.groupIds);
      assert.equal(plan.metricAfter, 110 - removed.length);
    }
    assert.equal(removed.length, Math.ceil(0.6 * 110));
    assert.equal(new Set(removed).size, removed.length, 'no group is planned twice');
  });
}
