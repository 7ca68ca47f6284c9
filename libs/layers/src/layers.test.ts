import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ClassToken, HEADS_TAP_POINT, INTERNAL_TAPS_ARG, LayerNormalization, layerNormalization, MultiHeadAttention, PositionEmbedding, TakeClassToken } from './index';
import { kerasVitExpectation, KERAS_VIT_DIR, loadStock, readModelJson, tensorOf } from './testing/keras-reference';

test.before(async () => {
  await tf.setBackend('cpu');
});

function apply(layer: tfl.layers.Layer, input: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor {
  return layer.apply(input) as tfl.SymbolicTensor;
}

/** A small ViT built in tfjs with every layer of this package. */
function buildVit(): tfl.LayersModel {
  const image = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 4, strides: 4, name: 'patch_embed' }), image);
  x = apply(tfl.layers.reshape({ targetShape: [4, 8], name: 'tokens' }), x);
  x = apply(new ClassToken({ name: 'class_token', tokenInitializer: 'randomNormal' }), x);
  x = apply(new PositionEmbedding({ name: 'position_embedding' }), x);
  const normed = apply(layerNormalization({ epsilon: 1e-6, name: 'norm' }), x);
  const attention = new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'attention', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) });
  x = apply(tfl.layers.add({ name: 'add' }), [x, apply(attention, normed)]);
  x = apply(tfl.layers.dense({ units: 16, activation: 'gelu', name: 'mlp1' }), x);
  x = apply(new TakeClassToken({ name: 'class_output' }), x);
  const output = apply(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }), x);
  return tfl.model({ inputs: image, outputs: output, name: 'vit' });
}

async function saveAndLoad(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
}

test('a model using every layer saves and loads back through stock tfjs with the same config and outputs', async () => {
  const model = buildVit();
  const loaded = await saveAndLoad(model);
  // Saving writes an absent initializer seed as null.
  const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_, v: unknown) => v ?? null));
  assert.deepEqual(asJson(loaded.getConfig()), asJson(model.getConfig()));
  const images = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1);
  assert.deepEqual(tf.tidy(() => (loaded.predict(images) as tf.Tensor).arraySync()), tf.tidy(() => (model.predict(images) as tf.Tensor).arraySync()));
  assert.deepEqual(model.getLayer('attention').weights.map((w) => w.originalName), [
    'attention/query/kernel', 'attention/query/bias', 'attention/key/kernel', 'attention/key/bias',
    'attention/value/kernel', 'attention/value/bias', 'attention/attention_output/kernel', 'attention/attention_output/bias',
  ]);
  tf.dispose([images]);
  loaded.dispose();
  model.dispose();
});

test("LayerNormalization is registered in tfjs's place: a loaded model's LayerNormalization is this package's class", async () => {
  const model = buildVit();
  const loaded = await saveAndLoad(model);
  assert.ok(loaded.getLayer('norm') instanceof LayerNormalization);
  assert.equal(loaded.getLayer('norm').getClassName(), 'LayerNormalization');
  loaded.dispose();
  model.dispose();
});

test('a seeded kernel initializer gives the four attention kernels different values', () => {
  const model = buildVit();
  const kernels = model.getLayer('attention').getWeights().filter((_, index) => index % 2 === 0).map((w) => w.dataSync().slice(0, 8).join());
  assert.equal(new Set(kernels).size, 4);
  model.dispose();
});

test("a Keras 2 config's 'value' call argument naming the query's own tensor is self-attention", async () => {
  const json = readModelJson(KERAS_VIT_DIR);
  const layers = (json.modelTopology as { config: { layers: { name: string; inbound_nodes: unknown[] }[] } }).config.layers;
  const attention = layers.find((layer) => layer.name === 'block1_attention');
  assert.ok(attention);
  // tfjs's loader camel-cases strings inside call arguments: 'block1_norm1' arrives as 'block1Norm1'.
  attention.inbound_nodes = [[['block1_norm1', 0, 0, { value: ['block1_norm1', 0, 0] }]]];
  const model = await loadStock(KERAS_VIT_DIR, json);
  const expected = kerasVitExpectation();
  const images = tensorOf(expected.inputs);
  const probabilities = tf.tidy(() => Array.from((model.predict(images) as tf.Tensor).dataSync()));
  probabilities.forEach((p, i) => assert.ok(Math.abs(p - expected.probabilities.values[i]) < 1e-6));
  assert.equal(model.getLayer('block1_attention').inboundNodes[0].inboundLayers.length, 1, 'recorded as one input');

  attention.inbound_nodes = [[['block1_norm1', 0, 0, { value: ['position_embedding', 0, 0] }]]];
  await assert.rejects(loadStock(KERAS_VIT_DIR, json), /'value' call argument .* cannot be resolved; give the inputs as a list/);
  tf.dispose(images);
  model.dispose();
});

test('the heads tap sees [batch, tokens, valueDim, heads]; silencing a head equals zeroing its output-projection rows', () => {
  const layer = new MultiHeadAttention({ numHeads: 3, keyDim: 2, valueDim: 4, name: 'attention' });
  const x = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 2);
  layer.apply(x);
  const silenceHead1 = (heads: tf.Tensor): tf.Tensor => {
    assert.deepEqual(heads.shape, [2, 5, 4, 3]);
    return tf.mul(heads, tf.tensor1d([1, 0, 1]));
  };
  const tapped = layer.apply(x, { [INTERNAL_TAPS_ARG]: { [HEADS_TAP_POINT]: silenceHead1 } }) as tf.Tensor;
  const weights = layer.getWeights();
  const outputKernel = weights[6].arraySync() as number[][][];
  outputKernel[1] = outputKernel[1].map((row) => row.map(() => 0));
  layer.setWeights([...weights.slice(0, 6), tf.tensor(outputKernel), weights[7]]);
  const zeroed = layer.apply(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(tapped, zeroed))).dataSync()[0] < 1e-6);
  tf.dispose([x, tapped, zeroed]);
  layer.dispose();
});

test('what the layer does not support is refused, naming the layer', () => {
  const tokens = tfl.input({ shape: [5, 8] });
  const attention = (args: object) => new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'mha', ...args });
  assert.throws(() => attention({}).apply(tokens, { attentionMask: tokens }), /MultiHeadAttention 'mha': the call argument 'attentionMask' is not supported/);
  assert.throws(() => attention({}).apply(tokens, { returnAttentionScores: true }), /'returnAttentionScores' is not supported/);
  assert.throws(() => attention({ outputShape: [4, 2] }), /'mha': outputShape \[4, 2\] has several axes/);
  assert.throws(() => attention({ activityRegularizer: { className: 'L1L2', config: { l1: 0.1, l2: 0 } } }), /'mha': activity regularizers are not supported/);
  assert.throws(() => attention({ numHeads: 0 }), /'mha': numHeads must be a positive integer, got 0/);
  assert.throws(() => attention({ attentionAxes: [2] }).apply(tokens), /'mha': attentionAxes \[2\] must be distinct axes/);
  assert.throws(() => attention({}).apply(tfl.input({ shape: [8] })), /'mha': inputs need rank >= 3/);
  assert.throws(() => attention({}).apply([tokens, tokens, tokens, tokens]), /expects \[query\], \[query, value\] or \[query, value, key\], got 4 inputs/);
  const ids = tfl.input({ shape: [5], dtype: 'int32' });
  const embedded = apply(tfl.layers.embedding({ inputDim: 10, outputDim: 8, maskZero: true }), ids);
  const masked = tfl.model({ inputs: ids, outputs: apply(attention({ name: 'masked' }), embedded) });
  assert.throws(() => masked.predict(tf.ones([1, 5], 'int32')), /Layer masked does not support masking|'masked': input masks are not supported/);
  assert.throws(() => new ClassToken({ name: 'cls' }).apply(tfl.input({ shape: [8] })), /ClassToken 'cls' needs inputs of rank >= 3/);
  assert.throws(() => new TakeClassToken({ name: 'take' }).apply(tfl.input({ shape: [2, 3, 8] })), /TakeClassToken 'take' needs \[batch, tokens, features\] inputs/);
});
