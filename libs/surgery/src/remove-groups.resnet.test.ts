import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildResNetCifar } from '@ippro/models';
import {
  assertEmptyRemovalIsIdentity,
  assertRandomRemovalsMatchCost,
  assertZeroedRemovalIsExact,
  type ModelBuilder,
} from './testing/surgery-properties';

// Properties of removeGroups on ResNet-20 (residual Adds tie channels across whole stages).
// 8x8 inputs: the topology and the weights are those of the CIFAR model, at a fraction of the cost.
const resnet20: ModelBuilder = (seed) => buildResNetCifar({ depth: 20, seed, inputShape: [8, 8, 3] });

test.before(async () => {
  await tf.setBackend('cpu');
});

test('removing zeroed groups leaves the outputs unchanged', () => {
  for (const seed of [1, 2]) assertZeroedRemovalIsExact(resnet20, seed, 0.4);
});

test('removing nothing is the identity', () => {
  assertEmptyRemovalIsIdentity(resnet20, 3);
});

test('random removals give a valid model whose size modelCost predicts', () => {
  assertRandomRemovalsMatchCost(resnet20, [4, 5, 6], 0.5);
});
