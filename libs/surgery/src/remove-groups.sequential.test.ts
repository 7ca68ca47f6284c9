import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { buildSequentialNet } from './testing/small-models';
import { randomRemoval } from './testing/random-removal';
import { removeGroups } from './remove-groups';
import {
  assertEmptyRemovalIsIdentity,
  assertRandomRemovalsMatchCost,
  assertZeroedRemovalIsExact,
  preparedModel,
} from './testing/surgery-properties';

// Properties of removeGroups on a Sequential model, with a Dropout between Flatten and Dense.

test.before(async () => {
  await tf.setBackend('cpu');
});

test('removing zeroed groups leaves the outputs unchanged', () => {
  for (const seed of [1, 2, 3]) assertZeroedRemovalIsExact(buildSequentialNet, seed, 0.4);
});

test('removing nothing is the identity', () => {
  assertEmptyRemovalIsIdentity(buildSequentialNet, 4);
});

test('random removals give a valid model whose size modelCost predicts', () => {
  assertRandomRemovalsMatchCost(buildSequentialNet, [5, 6, 7, 8], 0.5);
});

test('a Sequential model stays Sequential', () => {
  const { model, graph } = preparedModel(buildSequentialNet, 9);
  const pruned = removeGroups(model, graph, randomRemoval(graph, 9, 0.5));
  assert.ok(pruned instanceof tfl.Sequential);
  pruned.dispose();
  model.dispose();
});
