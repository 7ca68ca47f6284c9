import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { backend_util, Conv2DBackpropFilter, getKernel } from '@tensorflow/tfjs-core';

import { compareKernel, randomValues, seededRandom, useBackends } from '../../testing/backends';
import { CandidateBackend, candidateBackends } from '../../testing/native';
import { combinations, ConvGeometry, describeGeometry, randomGeometry, toChannelsFirst } from '../../testing/conv-cases';
import { registerWasmTrainingKernels, wasmTrainingKernels } from '../register-training-kernels';

const tolerance = 1e-4;

type DataFormat = 'NHWC' | 'NCHW';

interface FilterCase {
  geometry: ConvGeometry;
  inChannels: number;
  outChannels: number;
  dataFormat: DataFormat;
}

before(async () => {
  await useBackends();
  registerWasmTrainingKernels();
});

function buildCases(): FilterCase[] {
  const random = seededRandom(20240611);
  const grid = combinations({
    stride: [1, 2],
    padding: ['same', 'valid', 'explicit'] as const,
    batch: [1, 7],
    dataFormat: ['NHWC', 'NCHW'] as const,
  });
  return grid.map(({ dataFormat, ...request }) => ({
    geometry: randomGeometry({ ...request, dilation: 1 }, random),
    inChannels: 1 + Math.floor(random() * 4),
    outChannels: 1 + Math.floor(random() * 5),
    dataFormat,
  }));
}

async function checkCase(testCase: FilterCase, backend: CandidateBackend): Promise<number> {
  const { geometry, inChannels, outChannels, dataFormat } = testCase;
  const random = seededRandom(geometry.height * 1000 + geometry.width * 10 + inChannels);
  const channelsLast = dataFormat === 'NHWC';
  const xShape: [number, number, number, number] = channelsLast
    ? [geometry.batch, geometry.height, geometry.width, inChannels]
    : [geometry.batch, inChannels, geometry.height, geometry.width];
  const filterShape: [number, number, number, number] = [
    geometry.filterHeight,
    geometry.filterWidth,
    inChannels,
    outChannels,
  ];
  const pad = channelsLast ? geometry.pad : toChannelsFirst(geometry.pad);
  const info = backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    geometry.stride,
    1,
    pad,
    undefined,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const result = await compareKernel(
    Conv2DBackpropFilter,
    {
      x: { shape: xShape, values: randomValues(xShape, random) },
      dy: { shape: info.outShape, values: randomValues(info.outShape, random) },
    },
    { strides: geometry.stride, pad, dataFormat, filterShape },
    undefined,
    backend,
  );
  assert.deepEqual(result.shape, filterShape);
  assert.ok(
    result.relative <= tolerance,
    `${describeGeometry(geometry, ` ${dataFormat}`)}: relative error ${result.relative} (max |diff| ${result.maxAbsDiff})`,
  );
  return result.relative;
}

for (const { backend, skip } of candidateBackends()) {
  test(`Conv2DBackpropFilter on ${backend} matches cpu`, { skip }, async (t) => {
    let worst = 0;
    for (const testCase of buildCases()) {
      worst = Math.max(worst, await checkCase(testCase, backend));
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });

  test(`Conv2DBackpropFilter on ${backend} matches cpu on 1x1 filters (the matrix-product path)`, { skip }, async (t) => {
    const random = seededRandom(20251127);
    let worst = 0;
    const grid = combinations({ stride: [1, 2], padding: ['same', 'valid', 'explicit'] as const, batch: [1, 7] });
    for (const request of grid) {
      const geometry = { ...randomGeometry({ ...request, dilation: 1 }, random), filterHeight: 1, filterWidth: 1 };
      const inChannels = 1 + Math.floor(random() * 6);
      const outChannels = 1 + Math.floor(random() * 6);
      worst = Math.max(worst, await checkCase({ geometry, inChannels, outChannels, dataFormat: 'NHWC' }, backend));
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });

  test(`Conv2DBackpropFilter on ${backend} matches cpu on the SIMD path with wide and ragged channels`, { skip }, async (t) => {
    const random = seededRandom(20251128);
    let worst = 0;
    const grid = combinations({ stride: [1, 2, 3], padding: ['same', 'valid', 'explicit'] as const, batch: [1, 7] });
    for (const request of grid) {
      for (const [inChannels, outChannels] of [
        [16, 16],
        [8, 24],
        [5, 9],
        [3, 16],
      ]) {
        const geometry = randomGeometry({ ...request, dilation: 1 }, random);
        worst = Math.max(worst, await checkCase({ geometry, inChannels, outChannels, dataFormat: 'NHWC' }, backend));
      }
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });

  test(`Conv2DBackpropFilter on ${backend} handles many channels`, { skip }, async () => {
    const geometry = randomGeometry({ batch: 3, stride: 2, dilation: 1, padding: 'same' }, seededRandom(7));
    await checkCase({ geometry, inChannels: 17, outChannels: 24, dataFormat: 'NHWC' }, backend);
  });

  test(`Conv2DBackpropFilter on ${backend} handles numeric pads with every rounding mode`, { skip }, async () => {
    const random = seededRandom(8);
    // Even size so that 'floor' and 'ceil' disagree and 'ceil' reads past the padded input.
    const xShape: [number, number, number, number] = [2, 8, 9, 3];
    const filterShape: [number, number, number, number] = [3, 3, 3, 4];
    for (const dimRoundingMode of ['floor', 'round', 'ceil'] as const) {
      const info = backend_util.computeConv2DInfo(xShape, filterShape, 2, 1, 1, dimRoundingMode);
      const result = await compareKernel(
        Conv2DBackpropFilter,
        {
          x: { shape: xShape, values: randomValues(xShape, random) },
          dy: { shape: info.outShape, values: randomValues(info.outShape, random) },
        },
        { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode, filterShape },
        undefined,
        backend,
      );
      assert.ok(result.relative <= tolerance, `pad 1, ${dimRoundingMode}: relative error ${result.relative}`);
    }
  });
}

test('registerWasmTrainingKernels is idempotent', () => {
  const registered = getKernel(Conv2DBackpropFilter, 'wasm');
  registerWasmTrainingKernels();
  assert.equal(getKernel(Conv2DBackpropFilter, 'wasm'), registered);
  for (const config of wasmTrainingKernels) {
    assert.ok(getKernel(config.kernelName, 'wasm'), `${config.kernelName} is registered`);
  }
});
