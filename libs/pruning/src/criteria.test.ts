import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildChannelGraph } from '@ippro/graph';
import { accumulateGradStats, groupWeights } from '@ippro/importance';
import type { GradStats, GroupWeights } from '@ippro/importance';
import { CRITERIA, needsGradientStats, scoreByCriterion } from './criteria';
import { tinyCnn } from './testing/tiny-cnn';

let weights: GroupWeights;
let stats: GradStats;
let prunable: number;

before(async () => {
  await tf.setBackend('cpu');
  const model = tinyCnn(5);
  const graph = buildChannelGraph(model);
  const inputs = tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', 3);
  const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
  stats = await accumulateGradStats(model, graph, [{ inputs, labels }], { datasetId: 'random' });
  weights = groupWeights(model, graph);
  prunable = graph.groups.filter((group) => group.prunable).length;
  tf.dispose([inputs, labels]);
  model.dispose();
});

test('every criterion scores every prunable group; the gradient ones need statistics', () => {
  assert.deepEqual(CRITERIA.filter(needsGradientStats), ['proscore', 'taylor', 'taylor-batch', 'fisher']);
  for (const criterion of CRITERIA) {
    const table = scoreByCriterion(criterion, { weights, stats, seed: 1 });
    assert.equal(table.rows.length, prunable, criterion);
    assert.ok(table.rows.every((row) => Number.isFinite(row.score)), `${criterion}: finite scores`);
    if (needsGradientStats(criterion)) {
      assert.throws(() => scoreByCriterion(criterion, { weights }), new RegExp(`criterion '${criterion}' needs gradient statistics`));
    }
  }
});

test('PROscore readings reach the PROscore call; the trajectory is refused there', () => {
  const descending = scoreByCriterion('proscore', { weights, stats, proscoreReading: { reading: 'per-batch', order: 'descending' } });
  assert.equal(descending.reading, 'per-batch');
  assert.equal(descending.order, 'descending');
  assert.throws(() => scoreByCriterion('proscore', { weights, stats, proscoreReading: { reading: 'trajectory' } }), /cannot be computed from gradient statistics/);
});
