import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { backend_util, DepthwiseConv2dNativeBackpropFilter } from '@tensorflow/tfjs-core';

import {
  compareKernel,
  InputSpec,
  KernelRun,
  randomValues,
  runKernelOn,
  seededRandom,
  useBackends,
} from '../../testing/backends';
import {
  DepthwiseCase,
  depthwiseCases,
  describeGeometry,
  FilterValues,
  gatherFilterTaps,
  Padding,
  spreadFilterShape,
} from '../../testing/conv-cases';
import { registerWasmTrainingKernels } from '../register-training-kernels';
import { CandidateBackend, candidateBackends } from '../../testing/native';

const tolerance = 1e-4;

before(async () => {
  await useBackends();
  registerWasmTrainingKernels();
});

type FilterAttrs = {
  strides: number;
  dilations: number;
  pad: Padding;
  filterShape: FilterValues['shape'];
};

/**
 * The cpu kernel ignores dilation (tfjs only asks for dilation 1 in
 * gradients), so dilated cases are checked against the gradient of the
 * equivalent undilated filter with zeros between the taps.
 */
async function undilatedReference(inputs: Record<string, InputSpec>, attrs: FilterAttrs): Promise<KernelRun> {
  const [height, width, channels, multiplier] = attrs.filterShape;
  const spreadShape = spreadFilterShape(attrs.filterShape, attrs.dilations);
  const spreadGradient = await runKernelOn('cpu', DepthwiseConv2dNativeBackpropFilter, inputs, {
    ...attrs,
    dilations: 1,
    filterShape: spreadShape,
  });
  const gathered = gatherFilterTaps({ shape: spreadShape, values: spreadGradient.values }, attrs.dilations);
  assert.deepEqual(gathered.shape, [height, width, channels, multiplier]);
  return gathered;
}

async function checkCase(
  { geometry, inChannels, multiplier }: DepthwiseCase,
  seed: number,
  backend: CandidateBackend,
): Promise<number> {
  const random = seededRandom(seed);
  const xShape: [number, number, number, number] = [geometry.batch, geometry.height, geometry.width, inChannels];
  const filterShape: [number, number, number, number] = [
    geometry.filterHeight,
    geometry.filterWidth,
    inChannels,
    multiplier,
  ];
  const info = backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    geometry.stride,
    geometry.dilation,
    geometry.pad,
    undefined,
    true,
  );
  const inputs = {
    x: { shape: xShape, values: randomValues(xShape, random) },
    dy: { shape: info.outShape, values: randomValues(info.outShape, random) },
  };
  const attrs = { strides: geometry.stride, dilations: geometry.dilation, pad: geometry.pad, filterShape };
  const result = await compareKernel(
    DepthwiseConv2dNativeBackpropFilter,
    inputs,
    attrs,
    geometry.dilation > 1 ? () => undilatedReference(inputs, attrs) : undefined,
    backend,
  );
  assert.deepEqual(result.shape, filterShape);
  assert.ok(
    result.relative <= tolerance,
    `${describeGeometry(geometry, ` c=${inChannels} m=${multiplier}`)}: relative error ${result.relative}`,
  );
  return result.relative;
}

for (const { backend, skip } of candidateBackends()) {
  test(`DepthwiseConv2dNativeBackpropFilter on ${backend} matches cpu`, { skip }, async (t) => {
    let worst = 0;
    for (const [index, testCase] of depthwiseCases(31337).entries()) {
      worst = Math.max(worst, await checkCase(testCase, index + 1, backend));
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });

  test(`DepthwiseConv2dNativeBackpropFilter on ${backend} handles many channels`, { skip }, async () => {
    const random = seededRandom(5);
    await checkCase(
      {
        geometry: { batch: 5, height: 11, width: 9, filterHeight: 3, filterWidth: 3, stride: 2, dilation: 1, pad: 'same' },
        inChannels: 19,
        multiplier: 3,
      },
      Math.floor(random() * 1000),
      backend,
    );
  });
}
