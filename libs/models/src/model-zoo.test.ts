import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildModel, MODEL_ARCHITECTURES } from './model-registry';
import { buildVggCifar } from './vgg-cifar';
import { buildSmallCnn } from './small-cnn';
import { buildMobileNetV2Cifar, makeDivisible } from './mobilenetv2-cifar';
import { buildMlp } from './mlp';

test.before(async () => {
  await tf.setBackend('cpu');
});

function trainableCount(model: LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
}

test('VGG-16-BN has exactly the hand-counted parameters', () => {
  const widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];
  let inChannels = 3;
  let convKernels = 0;
  for (const width of widths) {
    convKernels += 3 * 3 * inChannels * width;
    inChannels = width;
  }
  assert.equal(convKernels, 14_710_464);
  const bnChannels = widths.reduce((a, b) => a + b, 0) + 512; // 13 conv BNs + fc1_bn
  assert.equal(bnChannels, 4_736);
  const fc1 = 512 * 512; // no bias: fc1_bn supplies the shift
  const classifier = 512 * 10 + 10;
  const total = convKernels + 4 * bnChannels + fc1 + classifier;
  assert.equal(total, 14_996_682);
  const model = buildVggCifar({ depth: 16 });
  assert.equal(model.countParams(), total);
  assert.equal(trainableCount(model), total - 2 * bnChannels);
  assert.equal(model.layers.filter((l) => l.getClassName() === 'Conv2D').length, 13);
  model.dispose();
});

test('the small CNN has exactly the hand-counted parameters (under 100K)', () => {
  const kernels = 3 * 3 * 3 * 32 + 3 * 3 * 32 * 48 + 3 * 3 * 48 * 64 + 3 * 3 * 64 * 96; // 97,632
  const bnChannels = 32 + 48 + 64 + 96;
  const classifier = 96 * 10 + 10;
  const model = buildSmallCnn();
  assert.equal(model.countParams(), kernels + 4 * bnChannels + classifier);
  assert.equal(model.countParams(), 99_562);
  assert.equal(trainableCount(model), 99_562 - 2 * bnChannels);
  assert.deepEqual(model.getLayer('block2_2_relu').outputShape, [null, 16, 16, 64]);
  assert.deepEqual(model.getLayer('block3_relu').outputShape, [null, 8, 8, 96]);
  model.dispose();
  const tiny = buildSmallCnn({ widths: [4, 8], numClasses: 3 });
  assert.equal(tiny.countParams(), 3 * 3 * 3 * 4 + 3 * 3 * 4 * 8 + 4 * (4 + 8) + 8 * 3 + 3);
  assert.deepEqual(tiny.layers.map((l) => l.name).slice(1, 5), ['block1_conv', 'block1_bn', 'block1_relu', 'block1_pool']);
  tiny.dispose();
});

test('the MLP has the hand-counted parameters', () => {
  const model = buildMlp();
  assert.equal(model.countParams(), 3072 * 256 + 4 * 256 + 256 * 128 + 4 * 128 + 128 * 10 + 10);
  model.dispose();
});

test('MobileNetV2: inverted residuals, depthwise convs, adds only where shapes match, width multiplier', () => {
  const model = buildMobileNetV2Cifar();
  assert.equal(model.countParams(), 2_270_794);
  const classes = (name: string) => model.layers.filter((l) => l.getClassName() === name).length;
  assert.equal(classes('DepthwiseConv2D'), 17);
  // Blocks whose stride is 1 and width unchanged: 1 + 2 + 3 + 2 + 2 + 0 = 10.
  assert.equal(classes('Add'), 10);
  const projection = model.getLayer('stage2_block1_project_bn');
  assert.deepEqual(projection.outputShape, [null, 32, 32, 24], 'stage 2 keeps 32x32 on CIFAR');
  assert.deepEqual(model.getLayer('head_relu').outputShape, [null, 4, 4, 1280]);
  // The linear bottleneck: nothing but an Add (or the next block) follows a projection's BN.
  assert.equal(model.layers.some((l) => /_project_relu$/.test(l.name)), false);
  model.dispose();
  const half = buildMobileNetV2Cifar({ widthMultiplier: 0.5 });
  assert.deepEqual(half.getLayer('stem_conv').outputShape, [null, 32, 32, 16]);
  assert.deepEqual(half.getLayer('stage7_block1_project_bn').outputShape, [null, 4, 4, 160]);
  assert.deepEqual(half.getLayer('head_conv').outputShape, [null, 4, 4, 1280]);
  assert.ok(half.countParams() < 1_000_000);
  half.dispose();
  assert.deepEqual([makeDivisible(16 * 0.5), makeDivisible(24 * 0.75), makeDivisible(32 * 1.4), makeDivisible(3)], [8, 24, 48, 8]);
});

test('every architecture maps images to class probabilities, with unique layer names', () => {
  // The big VGGs only differ from vgg11 in repeated convs: their forward pass is too slow for cpu.
  const slow = new Set(['vgg13', 'vgg16', 'vgg19']);
  for (const arch of MODEL_ARCHITECTURES) {
    const model = buildModel(arch, { numClasses: 7, seed: 3 });
    const names = model.layers.map((l) => l.name);
    assert.equal(new Set(names).size, names.length, `${arch}: layer names are unique`);
    assert.equal(names[names.length - 1], 'classifier', arch);
    assert.deepEqual(model.outputs[0]?.shape, [null, 7], arch);
    if (slow.has(arch)) {
      model.dispose();
      continue;
    }
    const probabilities = tf.tidy(() => model.predict(tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor);
    assert.deepEqual(probabilities.shape, [2, 7], arch);
    const sums = tf.tidy(() => tf.sum(probabilities, 1).arraySync() as number[]);
    sums.forEach((sum) => assert.ok(Math.abs(sum - 1) < 1e-5, `${arch}: rows sum to 1`));
    probabilities.dispose();
    model.dispose();
  }
});

function weightsEqual(a: LayersModel, b: LayersModel): boolean {
  const left = a.getWeights();
  const right = b.getWeights();
  if (left.length !== right.length) return false;
  return left.every((tensor, i) => {
    const x = tensor.dataSync();
    const y = (right[i] as tf.Tensor).dataSync();
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
    return true;
  });
}

test('builds are deterministic by seed, and the seed matters', () => {
  for (const arch of ['small-cnn', 'mlp', 'mobilenetv2', 'vgg11', 'resnet20', 'vit']) {
    const first = buildModel(arch, { seed: 5 });
    const again = buildModel(arch, { seed: 5 });
    const other = buildModel(arch, { seed: 6 });
    assert.ok(weightsEqual(first, again), `${arch}: same seed, same weights`);
    assert.ok(!weightsEqual(first, other), `${arch}: another seed, other weights`);
    [first, again, other].forEach((model) => model.dispose());
  }
});

test('the models are plain serialisable functional models', () => {
  for (const arch of MODEL_ARCHITECTURES.filter((name) => !name.startsWith('vgg1') && name !== 'resnet56')) {
    const model = buildModel(arch);
    const json = JSON.parse(JSON.stringify(model.toJSON(null, false))) as { class_name: string };
    assert.equal(json.class_name, 'Model', arch);
    model.dispose();
  }
});

test('buildModel refuses unknown architectures and options, listing what is known', () => {
  assert.throws(() => buildModel('resnet18'), /unknown architecture 'resnet18'; known architectures: resnet20, resnet32, resnet56, vgg11, .*mobilenetv2, small-cnn, mlp/);
  assert.throws(() => buildModel('vgg16', { widthMultiplier: 0.5 }), /'vgg16' has no width multiplier \(only mobilenetv2\)/);
  assert.throws(() => buildModel('small-cnn', { inputShape: [3072] }), /\[height, width, channels\]/);
  assert.throws(() => buildModel('mobilenetv2', { widthMultiplier: -1 }), /widthMultiplier must be a positive number/);
});
