import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
// Loading tfjs-layers registers tfjs' stock gradients, the reference here.
import '@tensorflow/tfjs-layers';

import { assertNoLeak, backendDataIds, compare, onBackend, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { nativeStatus } from '../../testing/native';
import { randomInt } from '../../testing/random-int';
import { FusedBatchNormV3 } from './fused-batch-norm-v3';
import { FUSED_BATCH_NORM_GRAD_V3_OUTPUTS, FusedBatchNormGradV3 } from './fused-batch-norm-grad-v3';

const tolerance = 1e-4;
const native = nativeStatus();
const skip = native.available ? false : native.reason;

before(() => useBackends({ engineLeakChecks: false }));

interface Case {
  shape: [number, number, number, number];
  epsilon: number;
}

interface Inputs {
  x: Float32Array;
  dy: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
}

function randomCase(random: () => number, batch: number): Case {
  const side = (): number => 2 * randomInt(random, 0, 6) + 1;
  return { shape: [batch, side(), side(), randomInt(random, 1, 17)], epsilon: random() < 0.5 ? 1e-3 : 1e-5 };
}

function randomInputs(c: Case, random: () => number): Inputs {
  const channels = c.shape[3];
  return {
    x: randomValues(c.shape, random).map((v) => 3 * v + 0.7),
    dy: randomValues(c.shape, random),
    scale: randomValues([channels], random).map((v) => v + 1.2),
    offset: randomValues([channels], random),
  };
}

/** dx, dScale, dOffset of sum(dy * batchNorm(x)) with batch statistics, by tfjs' stock gradients on cpu. */
async function reference(c: Case, inputs: Inputs): Promise<Float32Array[]> {
  return onBackend('cpu', () =>
    tf.tidy(() => {
      const dy = tf.tensor(inputs.dy, c.shape);
      const loss = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor): tf.Tensor => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.sum(tf.mul(dy, tf.batchNorm(x, mean, variance, offset, scale, c.epsilon)));
      };
      const grads = tf.grads(loss)([tf.tensor(inputs.x, c.shape), tf.tensor1d(inputs.scale), tf.tensor1d(inputs.offset)]);
      return grads.map((g) => Float32Array.from(g.dataSync()));
    }),
  );
}

/** The forward kernel supplies the reserve spaces, as it does in training. */
async function onNative(c: Case, inputs: Inputs): Promise<Float32Array[]> {
  return onBackend('tensorflow', () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds('tensorflow');
    const x = tf.tensor(inputs.x, c.shape);
    const scale = tf.tensor1d(inputs.scale);
    const offset = tf.tensor1d(inputs.offset);
    const dy = tf.tensor(inputs.dy, c.shape);
    const attrs = { varianceEpsilon: c.epsilon };
    const forward = tf.engine().runKernel(FusedBatchNormV3, { x, scale, offset }, attrs) as tf.Tensor[];
    const [, , , reserveSpace1, reserveSpace2, reserveSpace3] = forward;
    const grads = tf.engine().runKernel(
      FusedBatchNormGradV3,
      { dy, x, scale, reserveSpace1, reserveSpace2, reserveSpace3 } as tf.NamedTensorMap,
      attrs,
    ) as tf.Tensor[];
    assert.equal(grads.length, FUSED_BATCH_NORM_GRAD_V3_OUTPUTS);
    const values = grads.map((g) => Float32Array.from(g.dataSync()));
    tf.dispose([...grads, ...forward, x, scale, offset, dy]);
    assertNoLeak('tensorflow', tensorsBefore, dataIdsBefore);
    return values;
  });
}

for (const batch of [1, 7]) {
  test(`FusedBatchNormGradV3 on the native backend matches tfjs' batch-norm gradients on cpu, batch ${batch}`, { skip }, async (t) => {
    const random = seededRandom(batch * 211);
    let worst = 0;
    for (let i = 0; i < 16; i++) {
      const c = randomCase(random, batch);
      const inputs = randomInputs(c, random);
      const expected = await reference(c, inputs);
      const actual = await onNative(c, inputs);
      ['dx', 'dScale', 'dOffset'].forEach((name, k) => {
        const { relative } = compare(actual[k] ?? [], expected[k] ?? []);
        assert.ok(relative <= tolerance, `${JSON.stringify(c)} ${name}: relative error ${relative}`);
        worst = Math.max(worst, relative);
      });
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });
}

test('FusedBatchNormGradV3 names mismatched shapes', { skip }, async () => {
  await onBackend('tensorflow', () => {
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds('tensorflow');
    const x = tf.zeros([2, 3, 3, 4]);
    const dy = tf.zeros([2, 3, 3, 5]);
    const vector = tf.zeros([4]);
    assert.throws(
      () =>
        tf.engine().runKernel(
          FusedBatchNormGradV3,
          { dy, x, scale: vector, reserveSpace1: vector, reserveSpace2: vector, reserveSpace3: vector },
          { varianceEpsilon: 1e-3 },
        ),
      { message: 'FusedBatchNormGradV3 takes NHWC x and dy of one shape, got [2,3,3,4] and [2,3,3,5]' },
    );
    tf.dispose([x, dy, vector]);
    assertNoLeak('tensorflow', tensorsBefore, dataIdsBefore);
  });
});
