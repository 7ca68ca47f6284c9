import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRemoval } from './plan-removal';
import type { PlanRemovalInput } from './plan-removal-input';
import { handModel, scoresOf } from './testing/hand-model';

/** Two hidden layers of 10 and a 5-wide output; every channel costs one of each metric. */
function twoLayers() {
  return handModel({ layers: [{ name: 'a', width: 10 }, { name: 'b', width: 10 }, { name: 'out', width: 5 }] });
}

/** a's channels score 0..0.9 (all below b's), b's score 1..1.9. */
function aBelowB(): Record<string, number> {
  const entries: [string, number][] = [];
  for (let c = 0; c < 10; c += 1) {
    entries.push([`a:${c}`, c / 10], [`b:${c}`, 1 + c / 10]);
  }
  return scoresOf(entries);
}

function channels(fraction: number): PlanRemovalInput['target'] {
  return { metric: 'channels', fraction };
}

test('same input gives the identical plan; ties go by graph order (group index)', () => {
  const { graph, cost } = handModel({ layers: [{ name: 'a', width: 12 }, { name: 'out', width: 4 }] });
  const tied = Object.fromEntries(graph.groups.filter((g) => g.prunable).map((g) => [g.id, 0.5]));
  const reversed = Object.fromEntries(Object.entries(tied).reverse());
  const input = { graph, target: channels(3 / 16), round: 1, rounds: 1 };
  const first = JSON.stringify(planRemoval({ ...input, scores: tied }, cost));
  assert.equal(JSON.stringify(planRemoval({ ...input, scores: tied }, cost)), first);
  assert.equal(JSON.stringify(planRemoval({ ...input, scores: new Map(Object.entries(reversed)) }, cost)), first);
  // Graph order, not the id string: 'a:10' would sort before 'a:2' as a string.
  assert.deepEqual(JSON.parse(first).groupIds, ['a:0', 'a:1', 'a:2']);
});

test('the plan is plain JSON with the predicted metrics', () => {
  const { graph, cost } = twoLayers();
  const target = { metric: 'params', fraction: 0.2 } as const;
  const plan = planRemoval({ graph, scores: aBelowB(), target, round: 1, rounds: 2 }, cost);
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), {
    round: 1,
    rounds: 2,
    metric: 'params',
    groupIds: ['a:0', 'a:1', 'a:2'],
    metricOriginal: 25,
    metricBefore: 25,
    metricAfter: 22,
    removedFraction: 0.12,
    goalFraction: 0.1,
    reachedGoal: true,
  });
});

test('global ranking follows scores across layers; uniform thins every layer at the same ratio', () => {
  const { graph, cost } = twoLayers();
  const input = { graph, scores: aBelowB(), target: channels(0.16), round: 1, rounds: 1 };
  assert.deepEqual(planRemoval(input, cost).groupIds, ['a:0', 'a:1', 'a:2', 'a:3']);
  const uniform = planRemoval({ ...input, ranking: 'uniform' }, cost);
  assert.deepEqual(uniform.groupIds, ['a:0', 'a:1', 'b:0', 'b:1']);
});

test('uniform ranking lets a layer pruned in earlier rounds catch up last', () => {
  const { graph, cost } = twoLayers();
  const removedGroupIds = ['a:0', 'a:1'];
  const input = { graph, scores: aBelowB(), target: channels(0.24), removedGroupIds, round: 1, rounds: 1 };
  const plan = planRemoval({ ...input, ranking: 'uniform' }, cost);
  assert.deepEqual(plan.groupIds, ['a:2', 'b:0', 'b:1', 'b:2']);
});

test('maxLayerRatio protects a layer whose groups all score lowest', () => {
  const { graph, cost } = twoLayers();
  const input = { graph, scores: aBelowB(), target: channels(0.6), round: 1, rounds: 1 };
  const plan = planRemoval(input, cost);
  assert.equal(plan.groupIds.filter((id) => id.startsWith('a:')).length, 9, 'default 0.9 keeps one of ten');
  assert.equal(plan.groupIds.filter((id) => id.startsWith('b:')).length, 6);
  assert.equal(plan.reachedGoal, true);

  const halved = planRemoval({ ...input, maxLayerRatio: 0.5 }, cost);
  assert.equal(halved.groupIds.length, 10);
  assert.equal(halved.reachedGoal, false);
  const shortfall = /ran out of removable groups at 40\.00% removed: 10 candidate group\(s\) skipped by layer limits/;
  assert.match(halved.reason ?? '', shortfall);
});

test('minChannels protects a layer whose groups all score lowest', () => {
  const { graph, cost } = twoLayers();
  const input = { graph, scores: aBelowB(), target: channels(0.4), round: 1, rounds: 1 };
  const plan = planRemoval({ ...input, minChannels: 4 }, cost);
  assert.deepEqual(plan.groupIds.filter((id) => id.startsWith('a:')), ['a:0', 'a:1', 'a:2', 'a:3', 'a:4', 'a:5']);
  assert.deepEqual(plan.groupIds.filter((id) => id.startsWith('b:')), ['b:0', 'b:1', 'b:2', 'b:3']);
});

test('layer limits count channels removed in earlier rounds', () => {
  const { graph, cost } = twoLayers();
  const removedGroupIds = ['a:0', 'a:1', 'a:2', 'a:3', 'a:4'];
  const input = { graph, scores: aBelowB(), target: channels(0.4), removedGroupIds, round: 1, rounds: 1 };
  const plan = planRemoval({ ...input, maxLayerRatio: 0.6 }, cost);
  assert.deepEqual(plan.groupIds, ['a:5', 'b:0', 'b:1', 'b:2', 'b:3']);
});

test('a residual group counts against every layer it spans', () => {
  const { graph, cost } = handModel({
    layers: [{ name: 'r1', width: 4 }, { name: 'r2', width: 4 }, { name: 'c', width: 8 }, { name: 'out', width: 2 }],
    residuals: [{ anchor: 'add', layers: ['r1', 'r2'] }],
  });
  const scores = Object.fromEntries(graph.groups.map((g) => [g.id, g.id.startsWith('add:') ? 0 : 1]));
  const plan = planRemoval({ graph, scores, target: channels(0.5), round: 1, rounds: 1, maxLayerRatio: 0.5 }, cost);
  // Each add group removes one channel of r1 and one of r2: two of them reach each layer's half.
  assert.deepEqual(plan.groupIds.filter((id) => id.startsWith('add:')), ['add:0', 'add:1']);
  assert.equal(plan.metricOriginal - plan.metricAfter, 4 + 4);
});

test('groups in ignored layers are never removed', () => {
  const { graph, cost } = twoLayers();
  const input = { graph, scores: aBelowB(), target: channels(0.2), round: 1, rounds: 1 };
  const plan = planRemoval({ ...input, ignoredLayers: ['a'] }, cost);
  assert.deepEqual(plan.groupIds, ['b:0', 'b:1', 'b:2', 'b:3', 'b:4']);
});

test('a residual group touching an ignored layer is never removed', () => {
  const { graph, cost } = handModel({
    layers: [{ name: 'r1', width: 4 }, { name: 'r2', width: 4 }, { name: 'c', width: 4 }, { name: 'out', width: 2 }],
    residuals: [{ anchor: 'add', layers: ['r1', 'r2'] }],
  });
  const scores = Object.fromEntries(graph.groups.map((g) => [g.id, g.id.startsWith('add:') ? 0 : 1]));
  const plan = planRemoval({ graph, scores, target: channels(0.1), round: 1, rounds: 1, ignoredLayers: ['r2'] }, cost);
  assert.deepEqual(plan.groupIds, ['c:0', 'c:1']);
});

test('the output layer is always ignored, even when its groups claim to be prunable', () => {
  const { graph, cost } = twoLayers();
  for (const group of graph.groups.filter((g) => g.id.startsWith('out:'))) {
    group.prunable = true;
  }
  const scores = { ...aBelowB(), ...Object.fromEntries([0, 1, 2, 3, 4].map((c) => [`out:${c}`, -1])) };
  const plan = planRemoval({ graph, scores, target: channels(0.1), round: 1, rounds: 1 }, cost);
  assert.deepEqual(plan.groupIds, ['a:0', 'a:1', 'a:2']);
});

test('+Infinity keeps a group and non-prunable groups are never candidates', () => {
  const { graph, cost } = twoLayers();
  const scores = { ...aBelowB(), 'a:0': Number.POSITIVE_INFINITY, 'input:0': -5 };
  const plan = planRemoval({ graph, scores, target: channels(0.08), round: 1, rounds: 1 }, cost);
  assert.deepEqual(plan.groupIds, ['a:1', 'a:2']);
});

test('a target already met gives an empty plan that reached its goal, with a reason', () => {
  const { graph, cost } = twoLayers();
  const removedGroupIds = ['a:0', 'a:1', 'a:2', 'a:3', 'a:4', 'a:5'];
  const plan = planRemoval({ graph, scores: aBelowB(), target: channels(0.4), removedGroupIds, round: 1, rounds: 2 }, cost);
  assert.deepEqual(plan.groupIds, []);
  assert.equal(plan.reachedGoal, true);
  assert.equal(plan.metricAfter, plan.metricBefore);
  const reason = /target already met: 24\.00% of the original channels removed before round 1, goal 20\.00%/;
  assert.match(plan.reason ?? '', reason);
});

test('bad input is rejected with an error naming what is wrong', () => {
  const { graph, cost } = twoLayers();
  const input: PlanRemovalInput = { graph, scores: aBelowB(), target: channels(0.5), round: 1, rounds: 1 };
  const plan = (changes: Partial<PlanRemovalInput>) => () => planRemoval({ ...input, ...changes }, cost);
  assert.throws(plan({ target: channels(0) }), /target\.fraction must be a number strictly between 0 and 1, got 0/);
  assert.throws(plan({ target: channels(1) }), /got 1$/);
  assert.throws(plan({ target: channels(1.2) }), /got 1.2$/);
  assert.throws(plan({ scores: { ...aBelowB(), 'z:9': 1 } }), /scores name group "z:9", which is not in the graph/);
  assert.throws(plan({ scores: { ...aBelowB(), 'b:3': Number.NaN } }), /score of group b:3 is NaN/);
  const { 'b:3': _dropped, ...missing } = aBelowB();
  assert.equal(_dropped, 1.3);
  assert.throws(plan({ scores: missing }), /prunable group b:3 has no score/);
  assert.throws(plan({ removedGroupIds: ['a:99'] }), /removedGroupIds names group "a:99", which is not in the graph/);
  assert.throws(plan({ removedGroupIds: ['out:0'] }), /removedGroupIds names group out:0, which is not prunable/);
  assert.throws(plan({ ignoredLayers: ['a', 'nope'] }), /ignoredLayers name layers that are not in the graph: nope/);
  assert.throws(plan({ maxLayerRatio: 1.5 }), /maxLayerRatio must be a number from 0 to 1, got 1.5/);
  assert.throws(plan({ minChannels: 0 }), /minChannels must be an integer >= 1, got 0/);
  assert.throws(plan({ roundTo: 2.5 }), /roundTo must be an integer >= 1, got 2.5/);
  assert.throws(plan({ round: 2 }), /round must be an integer from 1 to rounds \(1\), got 2/);
  // @ts-expect-error an unknown ranking from untyped input
  assert.throws(plan({ ranking: 'local' }), /ranking must be one of global, uniform, got "local"/);
  assert.throws(
    () => planRemoval(input, () => ({ params: 1, macs: 1, channels: Number.NaN })),
    /cost function returned channels = NaN/,
  );
});
