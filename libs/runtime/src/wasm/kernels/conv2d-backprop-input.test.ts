import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropInputWasmConfig } from './conv2d-backprop-input';
import { compareWithCpu, installWasmKernel } from '../../testing/cpu-reference';
import { CandidateBackend, candidateBackends } from '../../testing/native';
import { randomValues, seededRandom } from '../../testing/backends';
import { randomInt } from '../../testing/random-int';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface Case {
  inputShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  stride: number;
  pad: Pad;
}

function randomPad(random: () => number, filterSize: number): Pad {
  const kind = randomInt(random, 0, 2);
  if (kind === 0) return 'same';
  if (kind === 1) return 'valid';
  const side = (): number => randomInt(random, 0, filterSize - 1);
  return [[0, 0], [side(), side()], [side(), side()], [0, 0]];
}

function randomCase(random: () => number, batch: number, stride: number): Case {
  const filterSize = [1, 3, 5][randomInt(random, 0, 2)];
  // Odd spatial sizes exercise the rows a strided forward pass never reads.
  const height = 2 * randomInt(random, 2, 6) + 1;
  const width = 2 * randomInt(random, 2, 6) + 1;
  const inChannels = randomInt(random, 1, 6);
  const outChannels = randomInt(random, 1, 6);
  return {
    inputShape: [batch, height, width, inChannels],
    filterShape: [filterSize, filterSize, inChannels, outChannels],
    stride,
    pad: randomPad(random, filterSize),
  };
}

function inputGradient(c: Case, dyValues: Float32Array, filterValues: Float32Array, dyShape: number[]): tf.Tensor {
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.inputShape };
  const inputs = { dy: tf.tensor(dyValues, dyShape), filter: tf.tensor(filterValues, c.filterShape) };
  return tf.engine().runKernel(tf.Conv2DBackpropInput, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

async function checkCase(c: Case, random: () => number, backend: CandidateBackend): Promise<void> {
  const info = tf.backend_util.computeConv2DInfo(c.inputShape, c.filterShape, c.stride, 1, c.pad);
  const dyValues = randomValues(info.outShape, random);
  const filterValues = randomValues(c.filterShape, random);
  const { shapeMatches, relativeError } = await compareWithCpu(() =>
    inputGradient(c, dyValues, filterValues, info.outShape),
    backend,
  );
  assert.ok(shapeMatches, JSON.stringify(c));
  assert.ok(relativeError <= 1e-4, `${JSON.stringify(c)}: relative error ${relativeError}`);
}

test.before(() => installWasmKernel(conv2DBackpropInputWasmConfig));

for (const { backend, skip } of candidateBackends()) {
  for (const stride of [1, 2, 3]) {
    for (const batch of [1, 7]) {
      test(`matches cpu on ${backend} for random stride-${stride} cases with batch ${batch}`, { skip }, async () => {
        const random = seededRandom(1000 * stride + batch);
        for (let i = 0; i < 12; i++) {
          await checkCase(randomCase(random, batch, stride), random, backend);
        }
      });
    }
  }

  test(`matches cpu on ${backend} on a ResNet-sized layer`, { skip }, async () => {
    const random = seededRandom(42);
    await checkCase({ inputShape: [2, 16, 16, 16], filterShape: [3, 3, 16, 32], stride: 2, pad: 'same' }, random, backend);
    await checkCase({ inputShape: [2, 8, 8, 64], filterShape: [3, 3, 64, 64], stride: 1, pad: 'same' }, random, backend);
  });
}
