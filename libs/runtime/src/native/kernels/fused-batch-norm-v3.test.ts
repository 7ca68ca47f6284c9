import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { assertNoLeak, backendDataIds, compare, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { nativeStatus } from '../../testing/native';
import { randomInt } from '../../testing/random-int';
import { FUSED_BATCH_NORM_V3_OUTPUTS, FusedBatchNormV3 } from './fused-batch-norm-v3';

const tolerance = 1e-4;
const native = nativeStatus();
const skip = native.available ? false : native.reason;

before(() => useBackends());

interface Case {
  shape: [number, number, number, number];
  epsilon: number;
}

interface Inputs {
  x: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
}

function randomCase(random: () => number, batch: number): Case {
  const side = (): number => 2 * randomInt(random, 0, 6) + 1;
  return { shape: [batch, side(), side(), randomInt(random, 1, 17)], epsilon: random() < 0.5 ? 1e-3 : 1e-5 };
}

function randomInputs(c: Case, random: () => number): Inputs {
  const channels = c.shape[3];
  // An offset mean and a spread away from 1 make both statistics matter.
  return {
    x: randomValues(c.shape, random).map((v) => 3 * v + 0.7),
    scale: randomValues([channels], random).map((v) => v + 1.2),
    offset: randomValues([channels], random),
  };
}

/** y, mean and variance as tfjs-layers computes them in training mode (tf.moments, tf.batchNorm). */
async function reference(c: Case, inputs: Inputs): Promise<Float32Array[]> {
  return onBackend('cpu', () =>
    tf.tidy(() => {
      const x = tf.tensor(inputs.x, c.shape);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.batchNorm(x, mean, variance, tf.tensor1d(inputs.offset), tf.tensor1d(inputs.scale), c.epsilon);
      return [y, mean, variance].map((t) => Float32Array.from(t.dataSync()));
    }),
  );
}

async function onNative(c: Case, inputs: Inputs): Promise<Float32Array[]> {
  return onBackend('tensorflow', () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds('tensorflow');
    const tensors = {
      x: tf.tensor(inputs.x, c.shape),
      scale: tf.tensor1d(inputs.scale),
      offset: tf.tensor1d(inputs.offset),
    };
    const outputs = tf.engine().runKernel(FusedBatchNormV3, tensors, { varianceEpsilon: c.epsilon }) as tf.Tensor[];
    assert.equal(outputs.length, FUSED_BATCH_NORM_V3_OUTPUTS);
    const values = outputs.slice(0, 3).map((t) => Float32Array.from(t.dataSync()));
    tf.dispose([...outputs, ...Object.values(tensors)]);
    assertNoLeak('tensorflow', tensorsBefore, dataIdsBefore);
    return values;
  });
}

for (const batch of [1, 7]) {
  test(`FusedBatchNormV3 on the native backend matches moments + batchNorm on cpu, batch ${batch}`, { skip }, async (t) => {
    const random = seededRandom(batch * 101);
    let worst = 0;
    for (let i = 0; i < 16; i++) {
      const c = randomCase(random, batch);
      const inputs = randomInputs(c, random);
      const expected = await reference(c, inputs);
      const actual = await onNative(c, inputs);
      ['y', 'mean', 'variance'].forEach((name, k) => {
        const { relative } = compare(actual[k] ?? [], expected[k] ?? []);
        assert.ok(relative <= tolerance, `${JSON.stringify(c)} ${name}: relative error ${relative}`);
        worst = Math.max(worst, relative);
      });
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });
}

test('FusedBatchNormV3 names the shape it cannot take', { skip }, async () => {
  await onBackend('tensorflow', () => {
    const x = tf.zeros([2, 3, 4]);
    const vector = tf.zeros([4]);
    assert.throws(() => tf.engine().runKernel(FusedBatchNormV3, { x, scale: vector, offset: vector }, { varianceEpsilon: 1e-3 }), {
      message: 'FusedBatchNormV3 takes NHWC input, got shape [2,3,4]',
    });
    const x4 = tf.zeros([2, 3, 3, 5]);
    assert.throws(() => tf.engine().runKernel(FusedBatchNormV3, { x: x4, scale: vector, offset: vector }, { varianceEpsilon: 1e-3 }), {
      message: 'FusedBatchNormV3: scale must have shape [5], got [4]',
    });
    tf.dispose([x, vector, x4]);
  });
});
