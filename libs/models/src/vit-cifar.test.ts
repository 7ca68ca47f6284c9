import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildVit } from './vit-cifar';

test.before(async () => {
  await tf.setBackend('cpu');
});

test('the default ViT: 64 patch tokens of width 128, six pre-norm blocks, average pooling, 810,890 parameters', () => {
  const model = buildVit();
  assert.equal(model.countParams(), 810_890);
  const names = model.layers.map((layer) => layer.name);
  assert.deepEqual(names.slice(0, 4), ['image', 'patch_embed', 'patch_tokens', 'position_embedding']);
  assert.deepEqual(names.slice(4, 13), [
    'block1_norm1', 'block1_attention', 'block1_add1', 'block1_norm2', 'block1_mlp1', 'block1_mlp2', 'block1_add2', 'block2_norm1', 'block2_attention',
  ]);
  assert.deepEqual(names.slice(-3), ['final_norm', 'token_pool', 'classifier']);
  assert.deepEqual(model.getLayer('patch_tokens').outputShape, [null, 64, 128]);
  assert.deepEqual(model.getLayer('block6_mlp1').outputShape, [null, 64, 256]);
  assert.equal(model.getLayer('block1_mlp1').getConfig()['activation'], 'gelu');
  assert.deepEqual(model.outputs[0]?.shape, [null, 10]);
  model.dispose();
});

test('with a class token the classifier reads token 0 of 65', () => {
  const model = buildVit({ pooling: 'class-token', depth: 1, numClasses: 3 });
  assert.deepEqual(model.getLayer('position_embedding').outputShape, [null, 65, 128]);
  assert.deepEqual(model.layers.slice(-3).map((layer) => layer.name), ['final_norm', 'class_output', 'classifier']);
  const probabilities = tf.tidy(() => tf.sum(model.predict(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor, 1).arraySync() as number[]);
  probabilities.forEach((sum) => assert.ok(Math.abs(sum - 1) < 1e-5));
  model.dispose();
});

test('the four attention kernels of a block and the blocks themselves are drawn differently', () => {
  const model = buildVit({ depth: 2, dModel: 16, numHeads: 2, mlpDim: 8 });
  const firstValues = (name: string, index: number) => model.getLayer(name).getWeights()[index].dataSync().slice(0, 4).join();
  const kernels = [0, 2, 4, 6].map((index) => firstValues('block1_attention', index));
  assert.equal(new Set([...kernels, firstValues('block2_attention', 0)]).size, 5);
  model.dispose();
});

test('bad options are refused, saying which', () => {
  assert.throws(() => buildVit({ patchSize: 5 }), /divisible into 5x5 patches/);
  assert.throws(() => buildVit({ dModel: 10, numHeads: 4 }), /dModel 10 must be a multiple of numHeads 4/);
  assert.throws(() => buildVit({ pooling: 'max' as never }), /pooling must be one of class-token, average/);
  assert.throws(() => buildVit({ dropout: 1 }), /dropout must be in \[0, 1\)/);
  assert.throws(() => buildVit({ depth: 0 }), /depth must be a positive integer/);
});
