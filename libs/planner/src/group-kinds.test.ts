import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildChannelGraph } from '@ippro/graph';
import { buildVit } from '@ippro/models';
import { planRemoval } from './plan-removal';

test.before(async () => {
  await tf.setBackend('cpu');
});

/** Two blocks of 2 heads, MLP 16, width 8: every prunable group scored alike, so graph order decides. */
function tinyVitPlan(groupKinds?: Parameters<typeof planRemoval>[0]['groupKinds'], fraction = 0.3) {
  const model = buildVit({ inputShape: [4, 4, 2], patchSize: 2, dModel: 8, depth: 2, numHeads: 2, mlpDim: 16, numClasses: 3 });
  const graph = buildChannelGraph(model);
  model.dispose();
  const scores = new Map(graph.groups.filter((group) => group.prunable).map((group) => [group.id, 0.5]));
  const plan = planRemoval({ graph, scores, target: { metric: 'params', fraction }, round: 1, rounds: 1, ...(groupKinds ? { groupKinds } : {}) });
  const kindOf = new Map(graph.groups.map((group) => [group.id, group.kind]));
  return { plan, kinds: plan.groupIds.map((id) => kindOf.get(id)) };
}

test('groupKinds limits a plan to the kinds asked for; heads are budgeted per attention', () => {
  const heads = tinyVitPlan(['head']);
  // 2 heads per attention, at most floor(0.9 * 2) = 1 of them may go: one head per block, then the run is short.
  assert.deepEqual(heads.plan.groupIds, ['block1_attention/heads:0', 'block2_attention/heads:0']);
  assert.equal(heads.plan.reachedGoal, false);
  assert.match(heads.plan.reason ?? '', /never removable \(not prunable, ignored or output layer, a kind not in groupKinds, or score \+Infinity\)/);

  const mlp = tinyVitPlan(['mlp']);
  assert.ok(mlp.kinds.length > 0 && mlp.kinds.every((kind) => kind === 'mlp'));
  assert.equal(mlp.plan.reachedGoal, true);

  const all = tinyVitPlan();
  assert.ok(all.kinds.includes('embedding'), 'by default every kind may go (the embedding groups come first in graph order)');
});

test('groupKinds must name known kinds', () => {
  assert.throws(() => tinyVitPlan(['heads' as never]), /groupKinds must list some of channel, head, mlp, embedding, got \["heads"\]/);
  assert.throws(() => tinyVitPlan([]), /groupKinds must list some of/);
});
