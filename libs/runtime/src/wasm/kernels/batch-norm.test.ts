import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fusedBatchNormWasmConfig } from './batch-norm';
import { compareWithCpu, installWasmKernel } from '../../testing/cpu-reference';
import { CandidateBackend, candidateBackends } from '../../testing/native';
import { randomValues, seededRandom } from '../../testing/backends';
import { randomInt } from '../../testing/random-int';

interface Case {
  shape: number[];
  withScale: boolean;
  withOffset: boolean;
  statisticsShape: 'vector' | 'keepDims';
}

function randomCase(random: () => number, batch: number): Case {
  const shape = [batch, 2 * randomInt(random, 1, 6) + 1, 2 * randomInt(random, 1, 6) + 1, randomInt(random, 1, 9)];
  return { shape, withScale: random() < 0.7, withOffset: random() < 0.7, statisticsShape: random() < 0.5 ? 'vector' : 'keepDims' };
}

function tensor4d(values: Float32Array, shape: number[]): tf.Tensor4D {
  const created: tf.Tensor = tf.tensor(values, shape);
  return created as tf.Tensor4D;
}

async function expectSameAsCpu(c: Case, random: () => number, backend: CandidateBackend): Promise<void> {
  const channels = c.shape[3];
  const x = randomValues(c.shape, random).map((v) => 3 * v + 0.5);
  const mean = randomValues([channels], random);
  const variance = randomValues([channels], random).map((v) => v + 1.5);
  const scale = randomValues([channels], random);
  const offset = randomValues([channels], random);
  const statShape = c.statisticsShape === 'vector' ? [channels] : [1, 1, 1, channels];
  const { shapeMatches, relativeError } = await compareWithCpu(() =>
    tf.batchNorm(
      tensor4d(x, c.shape),
      tensor4d(mean, statShape),
      tensor4d(variance, statShape),
      c.withOffset ? tensor4d(offset, statShape) : undefined,
      c.withScale ? tensor4d(scale, statShape) : undefined,
      1e-3,
    ),
    backend,
  );
  assert.ok(shapeMatches, JSON.stringify(c));
  assert.ok(relativeError <= 1e-4, `${JSON.stringify(c)}: relative error ${relativeError}`);
}

test.before(() => installWasmKernel(fusedBatchNormWasmConfig));

for (const { backend, skip } of candidateBackends()) {
  for (const batch of [1, 7]) {
    test(`matches cpu on ${backend} on random per-channel batch norms with batch ${batch}`, { skip }, async () => {
      const random = seededRandom(batch * 13);
      for (let i = 0; i < 16; i++) {
        await expectSameAsCpu(randomCase(random, batch), random, backend);
      }
    });
  }

  test(`matches cpu on ${backend} for full-shape statistics (the stock kernel on wasm)`, { skip }, async () => {
    const random = seededRandom(3);
    const shape = [2, 3, 5, 4];
    const values = (): Float32Array => randomValues(shape, random);
    const [x, mean, variance] = [values(), values(), values().map((v) => v + 2)];
    const { relativeError } = await compareWithCpu(() =>
      tf.batchNorm(tf.tensor(x, shape), tf.tensor(mean, shape), tf.tensor(variance, shape)),
      backend,
    );
    assert.ok(relativeError <= 1e-4);
  });
}
