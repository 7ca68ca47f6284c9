import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNativeComparison, formatNativeComparison, MIN_TFJS_OVER_PYTORCH_TRAIN_RATIO } from './runtime-comparison';
import type { NativeMeasurement } from './runtime-native';
import type { RuntimeModel } from './runtime-options';
import type { TorchMeasurement } from './runtime-torch';

const RESNET20_PARAMETERS = 272_474;
const VIT_PARAMETERS = 810_890;

function native(threads: number, stepRunsMs: number[], kernels: 'ippro' | 'stock' = 'ippro', model: RuntimeModel = 'resnet20', trainableParameters = RESNET20_PARAMETERS): NativeMeasurement {
  const sorted = [...stepRunsMs].sort((a, b) => a - b);
  return {
    summary: 'backend: using tensorflow as requested',
    model,
    trainableParameters,
    kernels,
    intraOpThreads: threads,
    batch: 128,
    forwardMs: 100,
    stepMs: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    forwardRunsMs: [100],
    stepRunsMs,
    stepCpuMs: 300,
    kernelCount: 1400,
    profile: [{ kernel: 'Conv2DBackpropFilter', ms: 90, calls: 21 }],
  };
}

function torch(threads: number, channelsLast: boolean, trainImagesPerSec: number, model: RuntimeModel = 'resnet20', parameters = RESNET20_PARAMETERS): TorchMeasurement {
  const phase = (imagesPerSec: number) => ({
    median_s: 128 / imagesPerSec,
    img_per_s: imagesPerSec,
    best_img_per_s: imagesPerSec * 1.1,
    cpu_s: (threads * 128) / imagesPerSec,
    img_per_cpu_s: imagesPerSec / threads,
  });
  return {
    torch: '1.13',
    python: 'python3',
    model,
    parameters,
    config: {},
    blas: '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3',
    threads,
    batch: 128,
    channels_last: channelsLast,
    waitPolicy: 'default',
    forward: phase(1000),
    train: phase(trainImagesPerSec),
  };
}

test('the ratio is taken per thread count against the faster PyTorch layout', () => {
  const comparison = buildNativeComparison(
    'resnet20',
    {
      native: [
        { threads: 1, kernels: 'ippro', outcome: { ok: true, measurement: native(1, [320, 300, 340]) } },
        { threads: 1, kernels: 'stock', outcome: { ok: true, measurement: native(1, [900], 'stock') } },
      ],
      pytorch: [
        { threads: 1, layout: 'nchw', waitPolicy: 'default', outcome: { ok: true, measurement: torch(1, false, 400) } },
        { threads: 1, layout: 'channels_last', waitPolicy: 'default', outcome: { ok: true, measurement: torch(1, true, 500) } },
      ],
      paired: [],
      notRun: [],
    },
    [1],
  );
  const [ratio] = comparison.ratios;
  assert.ok(ratio !== undefined);
  assert.equal(ratio.pytorchLayout, 'channels_last');
  const tfjs = (1000 * 128) / 320;
  assert.equal(ratio.trainRatio, tfjs / 500);
  assert.equal(ratio.bestTrainRatio, (1000 * 128) / 300 / (500 * 1.1));
  assert.equal(ratio.meetsFloor, tfjs / 500 >= MIN_TFJS_OVER_PYTORCH_TRAIN_RATIO);
  const text = formatNativeComparison(comparison);
  assert.equal(ratio.ratioSource, 'medians');
  assert.match(text, new RegExp(`^tfjs/pytorch train ratio: ${(tfjs / 500).toFixed(2)} \\(1 thread, from medians;`, 'm'));
  assert.match(text, /^trainable parameters: tfjs 272474, pytorch 272474 \(equal\)$/m);
});

test("the ViT's rows have a ratio line of their own and no floor", () => {
  const comparison = buildNativeComparison(
    'vit',
    {
      native: [{ threads: 1, kernels: 'ippro', outcome: { ok: true, measurement: native(1, [400], 'ippro', 'vit', VIT_PARAMETERS) } }],
      pytorch: [{ threads: 1, layout: 'nchw', waitPolicy: 'default', outcome: { ok: true, measurement: torch(1, false, 400, 'vit', VIT_PARAMETERS) } }],
      paired: [],
      notRun: [],
    },
    [1],
  );
  const [ratio] = comparison.ratios;
  assert.ok(ratio !== undefined);
  assert.equal(ratio.trainRatio, 320 / 400);
  assert.equal(ratio.meetsFloor, undefined);
  assert.equal(comparison.floor, undefined);
  assert.deepEqual(comparison.parameters, { tfjs: VIT_PARAMETERS, pytorch: VIT_PARAMETERS, same: true });
  const text = formatNativeComparison(comparison);
  assert.match(text, /^ViT, SGD training step: tfjs native/m);
  assert.match(text, /^trainable parameters: tfjs 810890, pytorch 810890 \(equal\)$/m);
  assert.match(text, /^vit tfjs\/pytorch train ratio: 0\.80 \(1 thread, from medians; no floor;/m);
  assert.doesNotMatch(text, /^tfjs\/pytorch train ratio/m);
});

test('models whose parameter counts differ are not compared', () => {
  const comparison = buildNativeComparison(
    'vit',
    {
      native: [{ threads: 1, kernels: 'ippro', outcome: { ok: true, measurement: native(1, [400], 'ippro', 'vit', VIT_PARAMETERS) } }],
      pytorch: [{ threads: 1, layout: 'nchw', waitPolicy: 'default', outcome: { ok: true, measurement: torch(1, false, 400, 'vit', VIT_PARAMETERS + 128) } }],
      paired: [],
      notRun: [],
    },
    [1],
  );
  assert.deepEqual(comparison.ratios, []);
  assert.equal(comparison.parameters.same, false);
  const text = formatNativeComparison(comparison);
  assert.match(text, /^trainable parameters: tfjs 810890, pytorch 811018 \(DIFFERENT: not compared\)$/m);
  assert.match(text, /^skipped: ratios: not computed, tfjs' ViT has 810890 trainable parameters and PyTorch's 811018, so they are not the same model$/m);
  assert.doesNotMatch(text, /train ratio:/);
});

test('parts that could not run are listed with their reason and give no ratio', () => {
  const comparison = buildNativeComparison(
    'resnet20',
    {
      native: [{ threads: 2, kernels: 'ippro', outcome: { ok: false, why: '@tensorflow/tfjs-node is not installed' } }],
      pytorch: [],
      paired: [],
      notRun: ['pytorch: no Python with torch'],
    },
    [2],
  );
  assert.deepEqual(comparison.ratios, []);
  assert.deepEqual(comparison.skipped, ['pytorch: no Python with torch', 'native (ippro kernels, 2 threads): @tensorflow/tfjs-node is not installed']);
  assert.match(formatNativeComparison(comparison), /skipped: native \(ippro kernels, 2 threads\): @tensorflow\/tfjs-node is not installed/);
});

test('alternated steps, when measured, give the headline ratio', () => {
  const roundRatios = [0.7, 0.9, 0.8];
  const comparison = buildNativeComparison(
    'resnet20',
    {
      native: [{ threads: 2, kernels: 'ippro', outcome: { ok: true, measurement: native(2, [200]) } }],
      pytorch: [{ threads: 2, layout: 'nchw', waitPolicy: 'default', outcome: { ok: true, measurement: torch(2, false, 900) } }],
      paired: [
        {
          threads: 2,
          outcome: {
            ok: true,
            paired: {
              threads: 2,
              pytorchWaitPolicies: { nchw: 'default', channels_last: 'default' },
              tfjsStepMs: [200, 210, 190], pytorchNchwStepMs: [150], pytorchChannelsLastStepMs: [160],
              roundRatios,
              ratio: 0.8,
            },
          },
        },
      ],
      notRun: [],
    },
    [2],
  );
  const [ratio] = comparison.ratios;
  assert.ok(ratio !== undefined);
  assert.equal(ratio.ratio, 0.8);
  assert.equal(ratio.ratioSource, 'paired steps');
  assert.equal(ratio.meetsFloor, 0.8 >= MIN_TFJS_OVER_PYTORCH_TRAIN_RATIO);
  assert.match(formatNativeComparison(comparison), /^tfjs\/pytorch train ratio: 0\.80 \(2 threads, from paired steps;/m);
});
