import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildMiniMobileNetV2 } from './testing/small-models';
import {
  assertEmptyRemovalIsIdentity,
  assertRandomRemovalsMatchCost,
  assertZeroedRemovalIsExact,
} from './testing/surgery-properties';

// Properties of removeGroups on a MobileNetV2-style model (DepthwiseConv2D, Add).

test.before(async () => {
  await tf.setBackend('cpu');
});

test('removing zeroed groups leaves the outputs unchanged', () => {
  for (const seed of [1, 2, 3]) assertZeroedRemovalIsExact(buildMiniMobileNetV2, seed, 0.4);
});

test('removing nothing is the identity', () => {
  assertEmptyRemovalIsIdentity(buildMiniMobileNetV2, 4);
});

test('random removals give a valid model whose size modelCost predicts', () => {
  assertRandomRemovalsMatchCost(buildMiniMobileNetV2, [5, 6, 7, 8], 0.5);
});
