import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildVit } from '@ippro/models';
import { buildChannelGraph } from './build-channel-graph';
import { describeGraph } from './describe-graph';
import { loadLayersModelFromDir } from './model-io';
import { proscoreFixtureDir } from './testing/fixture-location';

test.before(async () => {
  await tf.setBackend('cpu');
});

test('describeGraph summarises the fixture as plain JSON', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const summary = describeGraph(buildChannelGraph(model));
  assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary);
  assert.equal(summary.modelName, 'proscore_fixture');
  assert.equal(summary.groups, 18);
  assert.equal(summary.prunableGroups, 9);
  assert.deepEqual(summary.cost, { params: model.countParams(), macs: 6 * 5 + 5 * 4 + 6 * 4 + 4 * 3, channels: 16 });
  assert.deepEqual(summary.layers.slice(0, 3), [
    { name: 'features', className: 'InputLayer', role: 'input', channels: 6, prunableGroups: 0 },
    { name: 'dense1', className: 'Dense', role: 'producer', channels: 5, prunableGroups: 5 },
    { name: 'bn1', className: 'BatchNormalization', role: 'normalization', channels: 5, prunableGroups: 5 },
  ]);
  assert.deepEqual(summary.layers[summary.layers.length - 1], {
    name: 'classifier', className: 'Dense', role: 'producer', channels: 3, prunableGroups: 0,
  });
  model.dispose();
});

test('describeGraph reports frozen layers and unknowable costs', () => {
  const input = tfl.input({ shape: [null, null, 3], name: 'image' });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }).apply(input);
  const permuted = tfl.layers.permute({ dims: [2, 1, 3], name: 'swap' }).apply(conv);
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(permuted);
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(pooled) as tfl.SymbolicTensor;
  const summary = describeGraph(buildChannelGraph(tfl.model({ inputs: input, outputs: out })));
  assert.equal(summary.cost, null);
  assert.match(summary.costUnavailable ?? '', /Layer "conv" has an unknown output size/);
  const swap = summary.layers.find((l) => l.name === 'swap');
  assert.equal(swap?.role, 'frozen');
  assert.match(swap?.frozenReason ?? '', /has an unknown layer class \(Permute\)/);
});

test('describeGraph gives every prunable group its kind and what removing it alone saves', () => {
  const model = buildVit({ inputShape: [4, 4, 2], patchSize: 2, dModel: 8, depth: 1, numHeads: 2, mlpDim: 16, numClasses: 3 });
  const summary = describeGraph(buildChannelGraph(model));
  assert.deepEqual(summary.prunableByKind, { channel: 0, head: 2, mlp: 16, embedding: 8 });
  const head = summary.groupCosts?.find((group) => group.id === 'block1_attention/heads:1');
  // 4 tokens of width 8, heads of key size 4: q/k/v columns and biases plus output rows; projections, scores, weighted sum, output projection.
  assert.deepEqual(head, { id: 'block1_attention/heads:1', kind: 'head', unitLayers: ['block1_attention/heads'], units: 1, params: 8 * 12 + 12 + 4 * 8, macs: 4 * 8 * 12 + 4 * 4 * 8 + 4 * 4 * 8 });
  const embedding = summary.groupCosts?.find((group) => group.id === 'block1_add1:0');
  assert.deepEqual(embedding?.unitLayers, ['patch_embed', 'block1_attention', 'block1_mlp2']);
  assert.equal(embedding?.kind, 'embedding');
  model.dispose();
});
