import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { backend_util, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs-core';

import {
  compareKernel,
  InputSpec,
  KernelRun,
  randomValues,
  runKernelOn,
  seededRandom,
  useBackends,
} from '../../testing/backends';
import { DepthwiseCase, depthwiseCases, describeGeometry, FilterValues, Padding, spreadFilterTaps } from '../../testing/conv-cases';
import { registerWasmTrainingKernels } from '../register-training-kernels';
import { CandidateBackend, candidateBackends } from '../../testing/native';

const tolerance = 1e-4;

type Shape4D = [number, number, number, number];

interface InputAttrs {
  strides: number;
  dilations: number;
  pad: Padding;
  inputShape: Shape4D;
}

before(async () => {
  await useBackends();
  registerWasmTrainingKernels();
});

/**
 * The cpu kernel ignores dilation (tfjs only asks for dilation 1 in
 * gradients), so dilated cases are checked against the undilated kernel run
 * with zeros between the filter taps, which is the same convolution.
 */
function undilatedReference(dy: InputSpec, filter: FilterValues, attrs: InputAttrs): Promise<KernelRun> {
  return runKernelOn(
    'cpu',
    DepthwiseConv2dNativeBackpropInput,
    { dy, filter: spreadFilterTaps(filter, attrs.dilations) },
    { ...attrs, dilations: 1 },
  );
}

async function checkCase(
  { geometry, inChannels, multiplier }: DepthwiseCase,
  seed: number,
  backend: CandidateBackend,
): Promise<number> {
  const random = seededRandom(seed);
  const inputShape: Shape4D = [geometry.batch, geometry.height, geometry.width, inChannels];
  const filterShape: Shape4D = [geometry.filterHeight, geometry.filterWidth, inChannels, multiplier];
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    geometry.stride,
    geometry.dilation,
    geometry.pad,
    undefined,
    true,
  );
  const dy = { shape: info.outShape, values: randomValues(info.outShape, random) };
  const filter = { shape: filterShape, values: randomValues(filterShape, random) };
  const attrs: InputAttrs = { strides: geometry.stride, dilations: geometry.dilation, pad: geometry.pad, inputShape };
  const result = await compareKernel(
    DepthwiseConv2dNativeBackpropInput,
    { dy, filter },
    { ...attrs },
    geometry.dilation > 1 ? () => undilatedReference(dy, filter, attrs) : undefined,
    backend,
  );
  assert.deepEqual(result.shape, inputShape);
  assert.ok(
    result.relative <= tolerance,
    `${describeGeometry(geometry, ` c=${inChannels} m=${multiplier}`)}: relative error ${result.relative}`,
  );
  return result.relative;
}

for (const { backend, skip } of candidateBackends()) {
  test(`DepthwiseConv2dNativeBackpropInput on ${backend} matches cpu`, { skip }, async (t) => {
    let worst = 0;
    for (const [index, testCase] of depthwiseCases(4242).entries()) {
      worst = Math.max(worst, await checkCase(testCase, index + 1, backend));
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });

  test(`DepthwiseConv2dNativeBackpropInput on ${backend} crops when explicit pads exceed the filter reach`, { skip }, async () => {
    const geometry = { batch: 2, height: 9, width: 7, filterHeight: 1, filterWidth: 2, stride: 2, dilation: 1 };
    const pad: Padding = [
      [0, 0],
      [2, 1],
      [1, 3],
      [0, 0],
    ];
    await checkCase({ geometry: { ...geometry, pad }, inChannels: 3, multiplier: 2 }, 99, backend);
  });

  test(`DepthwiseConv2dNativeBackpropInput on ${backend} handles many channels`, { skip }, async () => {
    await checkCase(
      {
        geometry: { batch: 5, height: 11, width: 9, filterHeight: 3, filterWidth: 3, stride: 2, dilation: 1, pad: 'same' },
        inChannels: 19,
        multiplier: 3,
      },
      5,
      backend,
    );
  });
}
