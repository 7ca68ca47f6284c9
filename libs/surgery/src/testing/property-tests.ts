import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  assertEmptyRemovalIsIdentity,
  assertRandomRemovalsMatchCost,
  assertZeroedRemovalIsExact,
  type ModelBuilder,
} from './surgery-properties';

export interface PropertySeeds {
  zeroed: readonly number[];
  identity: number;
  random: readonly number[];
}

const DEFAULT_SEEDS: PropertySeeds = { zeroed: [1, 2, 3], identity: 4, random: [5, 6, 7, 8] };

/** Registers the three surgery properties every model family must satisfy. */
export function registerSurgeryPropertyTests(build: ModelBuilder, seeds: PropertySeeds = DEFAULT_SEEDS): void {
  test.before(async () => {
    await tf.setBackend('cpu');
  });

  test('removing zeroed groups leaves the outputs unchanged', () => {
    for (const seed of seeds.zeroed) assertZeroedRemovalIsExact(build, seed, 0.4);
  });

  test('removing nothing is the identity', () => {
    assertEmptyRemovalIsIdentity(build, seeds.identity);
  });

  test('random removals give a valid model whose size modelCost predicts', () => {
    assertRandomRemovalsMatchCost(build, seeds.random, 0.5);
  });
}
