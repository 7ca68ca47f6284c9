import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { compareKernel, KernelRun, randomValues, runKernelOn, seededRandom, useBackends } from '../../testing/backends';
import { nativeStatus } from '../../testing/native';
import { randomInt } from '../../testing/random-int';
import { ReluGrad } from './relu-grad';

const native = nativeStatus();
const skip = native.available ? false : native.reason;

before(() => useBackends());

/** tfjs' own Relu gradient, dy * step(x), on cpu. */
async function stockGradient(dy: Float32Array, x: Float32Array, shape: number[]): Promise<KernelRun> {
  const step = await runKernelOn('cpu', tf.Step, { x: { shape, values: x } }, { alpha: 0 });
  return runKernelOn('cpu', tf.Multiply, { a: { shape, values: dy }, b: { shape, values: step.values } }, {});
}

/** Activations with exact zeros (ReLU outputs many), where the gradient must be 0. */
function activations(shape: number[], random: () => number): Float32Array {
  return randomValues(shape, random).map((v) => (Math.abs(v) < 0.2 ? 0 : v));
}

test('ReluGrad on the native backend equals dy * step(x) on cpu', { skip }, async () => {
  const random = seededRandom(17);
  for (let i = 0; i < 24; i++) {
    const rank = randomInt(random, 1, 4);
    const shape = Array.from({ length: rank }, () => randomInt(random, 1, 9));
    if (i % 2 === 0) shape[0] = 7;
    const dy = randomValues(shape, random);
    const x = activations(shape, random);
    const result = await compareKernel(
      ReluGrad,
      { dy: { shape, values: dy }, x: { shape, values: x } },
      {},
      () => stockGradient(dy, x, shape),
      'tensorflow',
    );
    // A mask times dy: exact on any backend.
    assert.equal(result.maxAbsDiff, 0, `shape [${shape}]`);
  }
});

test('ReluGrad names mismatched shapes', { skip }, async () => {
  await assert.rejects(
    runKernelOn('tensorflow', ReluGrad, { dy: { shape: [2, 3], values: new Float32Array(6) }, x: { shape: [3, 2], values: new Float32Array(6) } }, {}),
    { message: 'ReluGrad: dy [2,3] and x [3,2] must have one shape' },
  );
});
