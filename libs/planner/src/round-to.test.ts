import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelGraph } from '@ippro/graph';
import { planRemoval } from './plan-removal';
import type { RemovalPlan } from './removal-plan';
import { handModel } from './testing/hand-model';

function keptWidth(graph: ChannelGraph, layer: string, removedIds: readonly string[]): number {
  const removed = new Set(removedIds);
  return graph.groups.filter((g) => g.members.some((m) => m.layer === layer) && !removed.has(g.id)).length;
}

/** a:0 scores lowest; a's other channels score above all of b's. */
function scoresFor(graph: ChannelGraph): Record<string, number> {
  return Object.fromEntries(
    graph.groups.map((g) => {
      const [layer, channel] = g.id.split(':');
      if (layer === 'a') {
        return [g.id, channel === '0' ? 0.1 : 5 + Number(channel) / 10];
      }
      return [g.id, 1 + Number(channel) / 10];
    }),
  );
}

/** Layers a (widthA), b (12) and a 4-wide output; `fraction` of their channels to remove. */
function plan(widthA: number, fraction: number, roundTo: number): { plan: RemovalPlan; graph: ChannelGraph } {
  const layers = [{ name: 'a', width: widthA }, { name: 'b', width: 12 }, { name: 'out', width: 4 }];
  const { graph, cost } = handModel({ layers });
  const target = { metric: 'channels', fraction } as const;
  const result = planRemoval({ graph, scores: scoresFor(graph), target, round: 1, rounds: 1, roundTo }, cost);
  return { plan: result, graph };
}

test('without roundTo the greedy pass takes single groups', () => {
  const { plan: result } = plan(12, 3 / 28, 1);
  assert.deepEqual(result.groupIds, ['a:0', 'b:0', 'b:1']);
});

test('roundTo removes a layer\'s channels in steps that keep its width a multiple of N', () => {
  const { plan: result, graph } = plan(12, 3 / 28, 4);
  // a:0 leads; a's next-ranked channels complete the step from 12 to 8.
  assert.deepEqual(result.groupIds, ['a:0', 'a:1', 'a:2', 'a:3']);
  assert.equal(keptWidth(graph, 'a', result.groupIds), 8);
  assert.equal(keptWidth(graph, 'b', result.groupIds), 12);
  assert.equal(result.reachedGoal, true);
});

test('every kept width ends on a multiple of N over a larger target', () => {
  const { plan: result, graph } = plan(12, 0.5, 4);
  for (const layer of ['a', 'b']) {
    assert.equal(keptWidth(graph, layer, result.groupIds) % 4, 0, layer);
  }
  assert.equal(result.reachedGoal, true);
});

test('a width that is not a multiple of N is first brought down to one', () => {
  const { plan: result, graph } = plan(10, 2 / 26, 4);
  assert.deepEqual(result.groupIds, ['a:0', 'a:1']);
  assert.equal(keptWidth(graph, 'a', result.groupIds), 8);
});

test('an aligned layer whose next multiple breaks a limit is left alone', () => {
  // a is 8 wide; 0 channels would break minChannels, so a keeps 8 and b pays instead.
  const { plan: result, graph } = plan(8, 4 / 24, 8);
  assert.equal(keptWidth(graph, 'a', result.groupIds), 8);
  assert.deepEqual(result.groupIds, ['b:0', 'b:1', 'b:2', 'b:3']);
  assert.equal(keptWidth(graph, 'b', result.groupIds), 8);
});

test('roundTo aligns every layer of a residual group together', () => {
  const { graph, cost } = handModel({
    layers: [{ name: 'r1', width: 8 }, { name: 'r2', width: 8 }, { name: 'out', width: 2 }],
    residuals: [{ anchor: 'add', layers: ['r1', 'r2'] }],
  });
  const scores = Object.fromEntries(graph.groups.map((g) => [g.id, g.index]));
  const target = { metric: 'channels', fraction: 0.1 } as const;
  const result = planRemoval({ graph, scores, target, round: 1, rounds: 1, roundTo: 4 }, cost);
  assert.deepEqual(result.groupIds, ['add:0', 'add:1', 'add:2', 'add:3']);
  assert.equal(keptWidth(graph, 'r1', result.groupIds), 4);
});

test('a layer that can never reach a multiple of N is pruned group by group', () => {
  // a is 5 wide with N = 8: the only lower multiple, 0, breaks minChannels.
  const { plan: result, graph } = plan(5, 2 / 21, 8);
  assert.deepEqual(result.groupIds, ['a:0', 'b:0', 'b:1', 'b:2', 'b:3']);
  assert.equal(keptWidth(graph, 'a', result.groupIds), 4);
  assert.equal(keptWidth(graph, 'b', result.groupIds), 8);
});
