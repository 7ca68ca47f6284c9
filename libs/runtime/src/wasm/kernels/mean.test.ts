import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { meanWasmConfig } from './mean';
import { reductionCases, ReductionCase } from '../../testing/reduction-cases';
import { compareWithCpu, installWasmKernel } from '../../testing/cpu-reference';
import { CandidateBackend, candidateBackends } from '../../testing/native';
import { randomValues, seededRandom } from '../../testing/backends';

async function expectSameAsCpu(c: ReductionCase, values: Float32Array, backend: CandidateBackend): Promise<void> {
  const { shapeMatches, relativeError } = await compareWithCpu(() =>
    tf.mean(tf.tensor(values, c.shape), c.axis, c.keepDims),
    backend,
  );
  assert.ok(shapeMatches, JSON.stringify(c));
  assert.ok(relativeError <= 1e-4, `${JSON.stringify(c)}: relative error ${relativeError}`);
}

test.before(() => installWasmKernel(meanWasmConfig));

for (const { backend, skip } of candidateBackends()) {
  test(`Mean on ${backend} matches cpu on random leading-axes and other reductions`, { skip }, async () => {
    const random = seededRandom(31);
    for (const c of reductionCases(4, 24)) {
      await expectSameAsCpu(c, randomValues(c.shape, random), backend);
    }
  });

  test(`Mean on ${backend} keeps keepDims shapes`, { skip }, async () => {
    await tf.setBackend(backend);
    const reduced = tf.mean(tf.ones([3, 5, 5, 2]), [0, 1, 2], true);
    assert.deepEqual(reduced.shape, [1, 1, 1, 2]);
    reduced.dispose();
  });

  test(`Mean on ${backend} stays accurate over a ResNet-sized batch-norm reduction`, { skip }, async () => {
    const c = { shape: [128, 32, 32, 16], axis: [0, 1, 2], keepDims: false };
    await expectSameAsCpu(c, randomValues(c.shape, seededRandom(5)), backend);
  });
}
