import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { MultiHeadAttention } from '@ippro/layers';
import { buildVit, type VitOptions } from '@ippro/models';
import { buildChannelGraph } from './build-channel-graph';
import type { ChannelGroup } from './channel-graph';
import { applyWithTaps } from './execute-with-taps';
import { modelCost } from './model-cost';
import { groupOf, layer as node, memberNames } from './testing/graph-lookups';

test.before(async () => {
  await tf.setBackend('cpu');
});

/** 4 patch tokens (+ a class token) of width 8, 2 heads of key size 4, MLP 16, 3 classes. */
const TINY: VitOptions = { inputShape: [4, 4, 2], patchSize: 2, dModel: 8, depth: 1, numHeads: 2, mlpDim: 16, numClasses: 3, pooling: 'class-token' };

test('a ViT is understood: each attention becomes its heads node and its output node', () => {
  const graph = buildChannelGraph(buildVit(TINY));
  assert.deepEqual(
    graph.layers.map((layer) => `${layer.name}:${layer.role}`),
    [
      'image:input', 'patch_embed:producer', 'patch_tokens:passthrough', 'class_token:token', 'position_embedding:token',
      'block1_norm1:layer-normalization', 'block1_attention/heads:attention-heads', 'block1_attention:attention', 'block1_add1:elementwise',
      'block1_norm2:layer-normalization', 'block1_mlp1:producer', 'block1_mlp2:producer', 'block1_add2:elementwise',
      'final_norm:layer-normalization', 'class_output:passthrough', 'classifier:producer',
    ],
  );
  const heads = node(graph, 'block1_attention/heads');
  assert.equal(heads.ownerLayer, 'block1_attention');
  assert.deepEqual(heads.inputs, ['block1_norm1']);
  assert.deepEqual(node(graph, 'block1_attention').inputs, ['block1_attention/heads']);
  assert.equal(heads.outputChannels, 2);
});

test('the groups of a ViT: heads, MLP neurons and embedding channels, each of its kind', () => {
  const graph = buildChannelGraph(buildVit(TINY));
  const prunable = graph.groups.filter((group) => group.prunable);
  assert.deepEqual(
    prunable.map((group) => `${group.id}:${group.kind}`),
    [
      ...Array.from({ length: 8 }, (_, c) => `block1_add1:${c}:embedding`),
      'block1_attention/heads:0:head', 'block1_attention/heads:1:head',
      ...Array.from({ length: 16 }, (_, u) => `block1_mlp1:${u}:mlp`),
    ],
  );
  assert.deepEqual(memberNames(groupOf(graph, 'block1_attention/heads', 1)), ['block1_attention/1:head>block1_attention/heads']);
  assert.deepEqual(memberNames(groupOf(graph, 'block1_mlp1', 5)), ['block1_mlp1/5:kernel>block1_mlp1']);
  // The patch embedding writes the residual stream at the position embedding's output, with the class token and positions.
  assert.deepEqual(memberNames(groupOf(graph, 'block1_add1', 3)), [
    'patch_embed/3:kernel>position_embedding', 'position_embedding/3:token', 'class_token/3:token', 'block1_norm1/3:layernorm',
    'block1_attention/3:kernel>block1_attention', 'block1_norm2/3:layernorm', 'block1_mlp2/3:kernel>block1_mlp2', 'final_norm/3:layernorm',
  ]);
  assert.deepEqual(new Set(groupOf(graph, 'block1_add1', 3).channels.map((channel) => channel.layer)), new Set([
    'patch_embed', 'patch_tokens', 'class_token', 'position_embedding', 'block1_norm1', 'block1_attention', 'block1_add1',
    'block1_norm2', 'block1_mlp2', 'block1_add2', 'final_norm', 'class_output',
  ]));
  assert.equal(groupOf(graph, 'classifier', 0).prunable, false);
});

test('average pooling: the same groups, the classifier reading the pooled tokens', () => {
  const graph = buildChannelGraph(buildVit({ ...TINY, pooling: 'average', depth: 2 }));
  const kinds = graph.groups.filter((group) => group.prunable).map((group) => group.kind);
  assert.deepEqual([kinds.filter((k) => k === 'embedding').length, kinds.filter((k) => k === 'head').length, kinds.filter((k) => k === 'mlp').length], [8, 4, 32]);
  assert.deepEqual(node(graph, 'token_pool').channelGroups, node(graph, 'block2_add2').channelGroups);
  assert.equal(groupOf(graph, 'patch_embed', 0).members[0].injectionLayer, 'position_embedding');
});

test('params and MACs: every weight, and attention counted as projections, scores, weighted sum and output projection', () => {
  const model = buildVit(TINY);
  const graph = buildChannelGraph(model);
  const tokens = 5;
  const [d, heads, key, mlp, classes] = [8, 2, 4, 16, 3];
  const patch = 4 * (2 * 2 * 2) * d;
  const attention = tokens * d * heads * 3 * key + heads * tokens * tokens * 2 * key + tokens * heads * key * d;
  const block = attention + 2 * tokens * d * mlp;
  assert.deepEqual(modelCost(graph), { params: model.countParams(), macs: patch + block + d * classes, channels: d + heads + d + mlp + d + classes });

  // One head less: its query/key/value columns and biases, its output-projection rows, its share of the attention.
  const head = graph.groups.find((group) => group.id === 'block1_attention/heads:0') as ChannelGroup;
  const withoutHead = modelCost(graph, new Set([head.index]));
  assert.equal(modelCost(graph).params - withoutHead.params, d * 3 * key + 3 * key + key * d);
  assert.equal(modelCost(graph).macs - withoutHead.macs, tokens * d * 3 * key + tokens * tokens * 2 * key + tokens * key * d);
  model.dispose();
});

test('the default ViT costs 810,890 parameters and 57.0M MACs per image', () => {
  const model = buildVit();
  assert.deepEqual(modelCost(buildChannelGraph(model)), { params: 810_890, macs: 57_017_600, channels: 6 * (128 + 4 + 256 + 128) + 128 + 10 });
  model.dispose();
});

function attentionModel(call: (layer: MultiHeadAttention, x: tfl.SymbolicTensor, other: tfl.SymbolicTensor) => tfl.SymbolicTensor, args: object = {}, shape = [5, 8]) {
  const x = tfl.input({ shape, name: 'x' });
  const other = tfl.input({ shape, name: 'other' });
  const projected = tfl.layers.dense({ units: 8, name: 'proj' }).apply(x) as tfl.SymbolicTensor;
  const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'mha', ...args });
  const attended = call(layer, projected, other);
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(tfl.layers.flatten({ name: 'flat' }).apply(attended)) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [x, other], outputs: out });
}

test('attention ippro cannot prune is frozen with the reason, or an error naming the layer', () => {
  const cases: [string, tfl.LayersModel, RegExp][] = [
    ['cross-attention', attentionModel((layer, x, other) => layer.apply([x, other]) as tfl.SymbolicTensor), /attends from one tensor to another \(cross-attention over 2 inputs\)/],
    ['a causal mask', attentionModel((layer, x) => layer.apply(x, { useCausalMask: true }) as tfl.SymbolicTensor), /uses a causal mask/],
    ['rank 4', attentionModel((layer, x) => layer.apply(x) as tfl.SymbolicTensor, {}, [3, 5, 8]), /attends over inputs of rank 4; ippro prunes attention over \[batch, tokens, features\]/],
  ];
  for (const [what, model, reason] of cases) {
    const graph = buildChannelGraph(model);
    const mha = node(graph, 'mha');
    assert.equal(mha.role, 'frozen', what);
    assert.match(mha.frozenReason ?? '', reason, what);
    assert.equal(graph.layers.some((layer) => layer.name === 'mha/heads'), false, what);
    assert.equal(groupOf(graph, 'proj', 0).prunable, false, what);
    assert.match(groupOf(graph, 'proj', 0).frozenReason ?? '', /touches frozen layer "mha" \(MultiHeadAttention\)/, what);
    assert.throws(() => buildChannelGraph(model, { unknownLayers: 'error' }), new RegExp(`Layer "mha" \\(class MultiHeadAttention\\) is not supported by the channel graph: it ${reason.source}`), what);
  }
});

test('valueDim other than keyDim, an output width, no bias: still prunable, and counted exactly', () => {
  const model = attentionModel((layer, x) => layer.apply(x) as tfl.SymbolicTensor, { valueDim: 3, outputShape: 6, useBias: false });
  const graph = buildChannelGraph(model);
  assert.equal(node(graph, 'mha').role, 'attention');
  assert.equal(groupOf(graph, 'mha/heads', 1).kind, 'head');
  assert.equal(groupOf(graph, 'mha', 5).kind, 'embedding');
  assert.equal(modelCost(graph).params, model.countParams());
  model.dispose();
});

test('an MLP with a separate activation layer is injected after the activation', () => {
  const x = tfl.input({ shape: [5, 8], name: 'x' });
  const hidden = tfl.layers.dense({ units: 6, name: 'mlp1' }).apply(x);
  const activated = tfl.layers.activation({ activation: 'gelu', name: 'gelu' }).apply(hidden);
  const projected = tfl.layers.dense({ units: 8, name: 'mlp2' }).apply(activated) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(tfl.layers.globalAveragePooling1d({ name: 'pool' }).apply(projected)) as tfl.SymbolicTensor;
  const graph = buildChannelGraph(tfl.model({ inputs: x, outputs: out }));
  assert.deepEqual(memberNames(groupOf(graph, 'mlp1', 2)), ['mlp1/2:kernel>gelu']);
  assert.equal(groupOf(graph, 'mlp1', 2).kind, 'mlp');
});

test('applyWithTaps reaches inside an attention through its heads node', () => {
  const model = buildVit(TINY);
  const images = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);
  const plain = tf.tidy(() => (model.predict(images) as tf.Tensor).arraySync());
  let seen: number[] = [];
  const identity = applyWithTaps(model, images, new Map([['block1_attention/heads', (heads: tf.Tensor) => ((seen = heads.shape), tf.mul(heads, 1))]])) as tf.Tensor;
  assert.deepEqual(seen, [2, 5, 4, 2]);
  assert.deepEqual(identity.arraySync(), plain);
  const silenced = applyWithTaps(model, images, new Map([['block1_attention/heads', (heads: tf.Tensor) => tf.mul(heads, 0)]])) as tf.Tensor;
  assert.notDeepEqual(silenced.arraySync(), plain);
  assert.throws(() => applyWithTaps(model, images, new Map([['nowhere/heads', (t: tf.Tensor) => t]])), /Tap names layer "nowhere\/heads", which the model does not compute/);
  tf.dispose([images, identity, silenced]);
  model.dispose();
});
