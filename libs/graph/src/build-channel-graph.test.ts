import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildResNetCifar } from '@ippro/models';
import { buildChannelGraph } from './build-channel-graph';
import type { ChannelGraph, ChannelGroup } from './channel-graph';
import { loadLayersModelFromDir } from './model-io';
import { proscoreFixtureDir } from './testing/fixture-location';

interface ExpectedGroup {
  id: string;
  members: string[];
}

test.before(async () => {
  await tf.setBackend('cpu');
});

function prunable(graph: ChannelGraph): ChannelGroup[] {
  return graph.groups.filter((group) => group.prunable);
}

function layer(graph: ChannelGraph, name: string) {
  const node = graph.layers.find((l) => l.name === name);
  assert.ok(node, `layer ${name}`);
  return node;
}

test('fixture: prunable groups and members are exactly those of expected.json', async () => {
  const dir = proscoreFixtureDir();
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')).groups as ExpectedGroup[];
  const model = await loadLayersModelFromDir(dir);
  const graph = buildChannelGraph(model);
  const actual = prunable(graph).map((g) => ({ id: g.id, members: g.members.map((m) => `${m.layer}/${m.channel}`) }));
  assert.deepEqual(actual, expected.map((g) => ({ id: g.id, members: g.members })));
  model.dispose();
});

test('fixture: member kinds and injection layers', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const graph = buildChannelGraph(model);
  const byId = new Map(graph.groups.map((g) => [g.id, g]));
  assert.deepEqual(byId.get('dense1:0')?.members, [
    { layer: 'dense1', channel: 0, kind: 'kernel', injectionLayer: 'bn1' },
    { layer: 'bn1', channel: 0, kind: 'batchnorm' },
  ]);
  assert.deepEqual(byId.get('residual_add:3')?.members, [
    { layer: 'dense2', channel: 3, kind: 'kernel', injectionLayer: 'bn2' },
    { layer: 'bn2', channel: 3, kind: 'batchnorm' },
    { layer: 'dense3', channel: 3, kind: 'kernel', injectionLayer: 'bn3' },
    { layer: 'bn3', channel: 3, kind: 'batchnorm' },
  ]);
  const add = byId.get('residual_add:2') as ChannelGroup;
  assert.deepEqual(
    add.channels.map((c) => `${c.layer}/${c.channel}`),
    ['dense2/2', 'dense3/2', 'bn2/2', 'bn3/2', 'residual_add/2', 'relu2/2'],
  );
  model.dispose();
});

test('fixture: inputs and the output layer are never prunable, with reasons', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const graph = buildChannelGraph(model);
  const frozen = graph.groups.filter((g) => !g.prunable);
  assert.deepEqual(
    frozen.map((g) => g.id),
    ['features:0', 'features:1', 'features:2', 'features:3', 'features:4', 'features:5', 'classifier:0', 'classifier:1', 'classifier:2'],
  );
  assert.match(frozen[0].frozenReason ?? '', /model input "features"/);
  assert.match(frozen[8].frozenReason ?? '', /output layer "classifier"/);
  assert.deepEqual(graph.outputLayers, ['classifier']);
  assert.deepEqual(layer(graph, 'classifier').channelGroups, [15, 16, 17]);
  graph.groups.forEach((g, i) => assert.equal(g.index, i));
  model.dispose();
});

test('fixture: layers in topological order with roles and shapes', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const graph = buildChannelGraph(model);
  assert.deepEqual(
    graph.layers.map((l) => `${l.name}:${l.role}`),
    [
      'features:input', 'dense1:producer', 'bn1:normalization', 'relu1:passthrough', 'dense2:producer',
      'dense3:producer', 'bn2:normalization', 'bn3:normalization', 'residual_add:elementwise',
      'relu2:passthrough', 'classifier:producer',
    ],
  );
  assert.deepEqual(layer(graph, 'residual_add').inputs, ['bn2', 'bn3']);
  assert.deepEqual(layer(graph, 'dense1').outputShape, [5]);
  assert.equal(graph.modelName, 'proscore_fixture');
  model.dispose();
});

test('ResNet-20: every residual stage is one coupled group set anchored at its first add', () => {
  const model = buildResNetCifar({ depth: 20 });
  const graph = buildChannelGraph(model);
  // 3 image channels + 10 classes are frozen; 16+32+64 stage groups + 3 blocks x (16+32+64) inner groups.
  assert.equal(graph.groups.length, 3 + 10 + 112 + 3 * 112);
  assert.equal(prunable(graph).length, 448);
  const widths = [16, 32, 64];
  widths.forEach((width, s) => {
    const stage = `stage${s + 1}`;
    const stageGroups = prunable(graph).filter((g) => g.id.startsWith(`${stage}_block1_add:`));
    assert.equal(stageGroups.length, width);
    for (const [c, group] of stageGroups.entries()) {
      assert.equal(group.id, `${stage}_block1_add:${c}`);
      const adds = group.channels.filter((ref) => ref.layer.endsWith('_add'));
      assert.deepEqual(adds, [1, 2, 3].map((b) => ({ layer: `${stage}_block${b}_add`, channel: c })));
    }
  });
  model.dispose();
});

test('ResNet-20: stem joins stage 1, projection shortcuts join stages 2 and 3', () => {
  const model = buildResNetCifar({ depth: 20 });
  const graph = buildChannelGraph(model);
  const byId = new Map(graph.groups.map((g) => [g.id, g]));
  const units = (id: string) =>
    byId.get(id)?.members.filter((m) => m.kind === 'kernel').map((m) => `${m.layer}>${m.injectionLayer}`);
  assert.deepEqual(units('stage1_block1_add:5'), [
    'stem_conv>stem_bn',
    'stage1_block1_2_conv>stage1_block1_2_bn',
    'stage1_block2_2_conv>stage1_block2_2_bn',
    'stage1_block3_2_conv>stage1_block3_2_bn',
  ]);
  assert.deepEqual(units('stage2_block1_add:31'), [
    'stage2_block1_2_conv>stage2_block1_2_bn',
    'stage2_block1_shortcut_conv>stage2_block1_shortcut_bn',
    'stage2_block2_2_conv>stage2_block2_2_bn',
    'stage2_block3_2_conv>stage2_block3_2_bn',
  ]);
  assert.deepEqual(units('stage3_block2_1_conv:7'), ['stage3_block2_1_conv>stage3_block2_1_bn']);
  // Stage 3 flows through global pooling into the classifier's input rows: still prunable.
  assert.ok(byId.get('stage3_block1_add:0')?.channels.some((c) => c.layer === 'global_avg_pool'));
  assert.equal(byId.get('stage3_block1_add:0')?.prunable, true);
  assert.equal(byId.get('classifier:0')?.prunable, false);
  model.dispose();
});

test('Sequential models are read without building them first', () => {
  const model = tfl.sequential({ name: 'seq' });
  model.add(tfl.layers.dense({ units: 4, inputShape: [3], name: 'hidden' }));
  model.add(tfl.layers.activation({ activation: 'relu', name: 'act' }));
  model.add(tfl.layers.dense({ units: 2, name: 'out' }));
  const graph = buildChannelGraph(model);
  assert.deepEqual(graph.layers.map((l) => l.name), ['hidden_input', 'hidden', 'act', 'out']);
  assert.deepEqual(prunable(graph).map((g) => g.id), ['hidden:0', 'hidden:1', 'hidden:2', 'hidden:3']);
  assert.deepEqual(graph.outputLayers, ['out']);
  model.dispose();
});

test('a model output in the middle of the network is never prunable', () => {
  const input = tfl.input({ shape: [3], name: 'x' });
  const hidden = tfl.layers.dense({ units: 4, name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
  const relu = tfl.layers.reLU({ name: 'relu' }).apply(hidden) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(relu) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: [out, relu] });
  const graph = buildChannelGraph(model);
  assert.deepEqual(graph.outputLayers, ['out', 'relu']);
  assert.equal(prunable(graph).length, 0);
  assert.match(graph.groups[layer(graph, 'hidden').channelGroups[0]].frozenReason ?? '', /output layer "relu"/);
  model.dispose();
});
