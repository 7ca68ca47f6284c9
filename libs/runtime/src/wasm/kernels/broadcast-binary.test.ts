import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { addWasmConfig, multiplyWasmConfig, realDivWasmConfig, subWasmConfig } from './broadcast-binary';
import { compareWithCpu, installWasmKernel } from '../../testing/cpu-reference';
import { CandidateBackend, candidateBackends } from '../../testing/native';
import { randomValues, seededRandom } from '../../testing/backends';
import { randomInt } from '../../testing/random-int';

type BinaryOp = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
const ops: [string, BinaryOp][] = [
  ['mul', tf.mul],
  ['sub', tf.sub],
  ['add', tf.add],
  ['div', tf.div],
];

async function expectSameAsCpu(op: BinaryOp, aShape: number[], bShape: number[], random: () => number, backend: CandidateBackend) {
  const aValues = randomValues(aShape, random);
  // Divisors are kept away from zero so the comparison measures the kernel, not cancellation.
  const bValues = randomValues(bShape, random).map((v) => v + Math.sign(v || 1) * 0.5);
  const { shapeMatches, relativeError } = await compareWithCpu(() =>
    op(tf.tensor(aValues, aShape), tf.tensor(bValues, bShape)),
    backend,
  );
  assert.ok(shapeMatches, `${aShape} ${bShape}`);
  assert.ok(relativeError <= 1e-6, `${aShape} ${bShape}: relative error ${relativeError}`);
}

test.before(() => [multiplyWasmConfig, subWasmConfig, addWasmConfig, realDivWasmConfig].forEach(installWasmKernel));

for (const { backend, skip } of candidateBackends()) {
  for (const [name, op] of ops) {
    test(`${name} on ${backend} matches cpu for channel, row and mixed broadcasts (batch 1 and 7, odd sizes)`, { skip }, async () => {
      const random = seededRandom(name.length * 97);
      for (const batch of [1, 7]) {
        // Large enough (over 16384 outputs even at batch 1) to take the tiling path.
        const full = [batch, 2 * randomInt(random, 60, 80) + 1, 2 * randomInt(random, 20, 30) + 1, randomInt(random, 4, 9)];
        const [, h, w, c] = full;
        await expectSameAsCpu(op, full, [c], random, backend);
        await expectSameAsCpu(op, [1, 1, 1, c], full, random, backend);
        await expectSameAsCpu(op, full, [1, h, 1, c], random, backend);
        await expectSameAsCpu(op, [batch, 1, w, 1], full, random, backend);
        await expectSameAsCpu(op, full, [], random, backend);
        await expectSameAsCpu(op, [batch, h, 1, c], [1, 1, w, 1], random, backend);
      }
    });
  }
}
