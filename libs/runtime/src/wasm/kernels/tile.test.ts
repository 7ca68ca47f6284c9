import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { tileWasmConfig } from './tile';
import { compareWithCpu, installWasmKernel } from '../../testing/cpu-reference';
import { CandidateBackend, candidateBackends } from '../../testing/native';
import { randomValues, seededRandom } from '../../testing/backends';
import { randomInt } from '../../testing/random-int';

async function expectSameAsCpu(
  shape: number[],
  reps: number[],
  dtype: 'float32' | 'int32',
  values: Float32Array,
  backend: CandidateBackend,
) {
  const { shapeMatches, relativeError } = await compareWithCpu(() => {
    const x = tf.tensor(dtype === 'int32' ? values.map((v) => Math.round(v * 100)) : values, shape, dtype);
    return tf.cast(tf.tile(x, reps), 'float32');
  }, backend);
  assert.ok(shapeMatches, `shape ${shape} reps ${reps}`);
  assert.equal(relativeError, 0, `shape ${shape} reps ${reps}`);
}

test.before(() => installWasmKernel(tileWasmConfig));

for (const { backend, skip } of candidateBackends()) {
  test(`matches cpu on ${backend} on random shapes, ranks 1 to 5, float32 and int32`, { skip }, async () => {
    const random = seededRandom(7);
    for (let i = 0; i < 40; i++) {
      const rank = randomInt(random, 1, 5);
      const shape = Array.from({ length: rank }, () => randomInt(random, 1, 5));
      const reps = Array.from({ length: rank }, () => randomInt(random, 1, 3));
      const dtype = i % 2 === 0 ? 'float32' : 'int32';
      await expectSameAsCpu(shape, reps, dtype, randomValues(shape, random), backend);
    }
  });

  test(`matches cpu on ${backend} on the batch-norm gradient pattern (odd sizes, batch 1 and 7)`, { skip }, async () => {
    const random = seededRandom(11);
    for (const batch of [1, 7]) {
      await expectSameAsCpu([1, 1, 1, 16], [batch, 9, 7, 1], 'float32', randomValues([16], random), backend);
    }
  });

  test(`handles zero repetitions and scalars-as-rank-1 on ${backend}`, { skip }, async () => {
    await expectSameAsCpu([2, 3], [0, 2], 'float32', new Float32Array(6).fill(1), backend);
    await expectSameAsCpu([1], [5], 'float32', new Float32Array([3]), backend);
  });
}
