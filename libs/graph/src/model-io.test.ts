import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadLayersModelFromDir, saveLayersModelToDir } from './model-io';
import { validateModelWeights } from './validate-weights';
import { proscoreFixtureDir } from './testing/fixture-location';
import { separableModel } from './testing/small-models';

test.before(async () => {
  await tf.setBackend('cpu');
});

function temporaryDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ippro-graph-io-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function copyFixture(dir: string): void {
  for (const file of ['model.json', 'weights.bin']) {
    fs.copyFileSync(path.join(proscoreFixtureDir(), file), path.join(dir, file));
    fs.chmodSync(path.join(dir, file), 0o644);
  }
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function predict(model: tfl.LayersModel, input: tf.Tensor): number[] {
  return tf.tidy(() => Array.from((model.predict(input) as tf.Tensor).dataSync()));
}

test('round trip: saved weights and predictions are identical, no temporary files left', async (t) => {
  const dir = temporaryDir(t);
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  const target = path.join(dir, 'nested', 'model');
  await saveLayersModelToDir(model, target);
  assert.deepEqual(fs.readdirSync(target).sort(), ['model.json', 'weights.bin']);
  const loaded = await loadLayersModelFromDir(target);
  const input = tf.randomNormal([4, 6], 0, 1, 'float32', 7);
  assert.deepEqual(predict(loaded, input), predict(model, input));
  const original = model.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(loaded.getWeights().map((w) => Array.from(w.dataSync())), original);
  input.dispose();
  model.dispose();
  loaded.dispose();
});

test('saved files load with stock tfjs from memory, no ippro code involved', async (t) => {
  const dir = temporaryDir(t);
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  await saveLayersModelToDir(model, dir);
  const json = readJson(path.join(dir, 'model.json')) as unknown as tf.io.ModelJSON;
  const bytes = fs.readFileSync(path.join(dir, json.weightsManifest[0].paths[0]));
  const stock = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
  const input = tf.ones([2, 6]);
  assert.deepEqual(predict(stock, input), predict(model, input));
  input.dispose();
  model.dispose();
  stock.dispose();
});

test('a manifest split over several files and groups loads', async (t) => {
  const dir = temporaryDir(t);
  const json = readJson(path.join(proscoreFixtureDir(), 'model.json'));
  const bytes = fs.readFileSync(path.join(proscoreFixtureDir(), 'weights.bin'));
  const specs = (json['weightsManifest'] as tf.io.WeightsManifestConfig)[0].weights;
  // Group 1: the first two weights (dense1 kernel + bias: 35 floats) in two files; group 2: the rest.
  const firstGroupBytes = 35 * 4;
  fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, 100));
  fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), bytes.subarray(100, firstGroupBytes));
  fs.mkdirSync(path.join(dir, 'more'));
  fs.writeFileSync(path.join(dir, 'more', 'group2.bin'), bytes.subarray(firstGroupBytes));
  json['weightsManifest'] = [
    { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: specs.slice(0, 2) },
    { paths: ['more/group2.bin'], weights: specs.slice(2) },
  ];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  const split = await loadLayersModelFromDir(dir);
  const whole = await loadLayersModelFromDir(proscoreFixtureDir());
  const input = tf.ones([1, 6]);
  assert.deepEqual(predict(split, input), predict(whole, input));
  input.dispose();
  split.dispose();
  whole.dispose();
});

test('SeparableConv2D with a depth multiplier survives a round trip', async (t) => {
  const dir = temporaryDir(t);
  const model = separableModel(4, 6);
  await saveLayersModelToDir(model, dir);
  const loaded = await loadLayersModelFromDir(dir);
  const input = tf.ones([1, 6, 6, 3]);
  assert.deepEqual(predict(loaded, input), predict(model, input));
  input.dispose();
  model.dispose();
  loaded.dispose();
});

test('bad model.json: malformed JSON, missing fields and escaping paths name the file', async (t) => {
  const dir = temporaryDir(t);
  copyFixture(dir);
  const modelFile = path.join(dir, 'model.json');
  fs.writeFileSync(modelFile, '{"modelTopology": ');
  await assert.rejects(loadLayersModelFromDir(dir), (e: Error) => e.message.includes(`Malformed model file ${modelFile}`));
  fs.writeFileSync(modelFile, JSON.stringify({ weightsManifest: [] }));
  await assert.rejects(loadLayersModelFromDir(dir), /field "modelTopology" is missing/);
  const json = readJson(path.join(proscoreFixtureDir(), 'model.json'));
  fs.writeFileSync(modelFile, JSON.stringify({ ...json, weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'x', shape: 'big', dtype: 'float32' }] }] }));
  await assert.rejects(loadLayersModelFromDir(dir), /weightsManifest\[0\]\.weights\[0\] \("x"\): field "shape"/);
  const manifest = json['weightsManifest'] as tf.io.WeightsManifestConfig;
  fs.writeFileSync(modelFile, JSON.stringify({ ...json, weightsManifest: [{ ...manifest[0], paths: ['../../etc/passwd'] }] }));
  await assert.rejects(loadLayersModelFromDir(dir), /weights path "..\/..\/etc\/passwd" points outside the model directory/);
  await assert.rejects(loadLayersModelFromDir(path.join(dir, 'absent')), /Model file .*absent\/model.json does not exist/);
});

test('a layer graph tfjs could never finish building is refused instead of hanging the loader', async (t) => {
  // A functional model saved by tfjs, whose layers each read the one before.
  const input = tfl.input({ shape: [4] });
  const hidden = tfl.layers.dense({ units: 3, name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 2, name: 'out' }).apply(hidden) as tfl.SymbolicTensor;
  const dir = temporaryDir(t);
  await saveLayersModelToDir(tfl.model({ inputs: input, outputs: output }), dir);
  const modelFile = path.join(dir, 'model.json');
  const saved = readJson(modelFile);
  const layersOf = (json: Record<string, unknown>): Record<string, unknown>[] =>
    ((json['modelTopology'] as Record<string, unknown>)['config'] as { layers: Record<string, unknown>[] }).layers;
  const broken = (edit: (layers: Record<string, unknown>[]) => void): void => {
    const json = structuredClone(saved);
    edit(layersOf(json));
    fs.writeFileSync(modelFile, JSON.stringify(json));
  };
  // Found by fuzzing model.json: each of these kept tfjs' building loop spinning forever.
  broken((layers) => void ((layers[1] as Record<string, unknown>)['name'] = 51));
  await assert.rejects(loadLayersModelFromDir(dir), /a layer is named 51 but its config names it "hidden"/);
  broken((layers) => void ((layers[2] as Record<string, unknown>)['inbound_nodes'] = [[['no_such_layer', 0, 0, {}]]]));
  await assert.rejects(loadLayersModelFromDir(dir), (e: Error) => e.message.startsWith(modelFile) && /layer "out" reads .*no_such_layer.*which no layer of the model makes/.test(e.message));
  broken((layers) => void ((layers[2] as Record<string, unknown>)['inbound_nodes'] = [[['hidden', 1, 0, {}]]]));
  await assert.rejects(loadLayersModelFromDir(dir), /layer "out" reads .*"hidden",1.*which no layer/);
  broken((layers) => void ((layers[1] as Record<string, unknown>)['inbound_nodes'] = [[['out', 0, 0, {}]]]));
  await assert.rejects(loadLayersModelFromDir(dir), /which no layer of the model makes \(a missing layer, a node index past its nodes, or a cycle\)/);
  broken((layers) => void ((layers[1] as Record<string, unknown>)['inbound_nodes'] = [[]]));
  await assert.rejects(loadLayersModelFromDir(dir), /layer "out" reads .*"hidden",0.*which no layer/);
  broken((layers) => void layers.push(structuredClone(layers[2] as Record<string, unknown>)));
  await assert.rejects(loadLayersModelFromDir(dir), /two layers are named "out"/);
  // The unbroken model still loads.
  fs.writeFileSync(modelFile, JSON.stringify(saved));
  (await loadLayersModelFromDir(dir)).dispose();
});

test('missing or wrongly sized weights files are named', async (t) => {
  const dir = temporaryDir(t);
  copyFixture(dir);
  const weightsFile = path.join(dir, 'weights.bin');
  const bytes = fs.readFileSync(weightsFile);
  fs.writeFileSync(weightsFile, bytes.subarray(0, bytes.length - 4));
  await assert.rejects(loadLayersModelFromDir(dir), (e: Error) => e.message.includes(`Weights file(s) ${weightsFile} hold 612 bytes`) && e.message.includes('need 616'));
  fs.rmSync(weightsFile);
  await assert.rejects(loadLayersModelFromDir(dir), (e: Error) => e.message.includes(`Weights file ${weightsFile}`) && e.message.includes('does not exist'));
});

test('NaN and Infinity weights are refused, naming the weight and file', async (t) => {
  const dir = temporaryDir(t);
  copyFixture(dir);
  const weightsFile = path.join(dir, 'weights.bin');
  const floats = new Float32Array(new Uint8Array(fs.readFileSync(weightsFile)).buffer);
  floats[30 + 2] = NaN; // dense1/bias[2] follows the 6x5 kernel
  fs.writeFileSync(weightsFile, new Uint8Array(floats.buffer));
  await assert.rejects(loadLayersModelFromDir(dir), (e: Error) =>
    e.message.includes(`Weight "dense1/bias" in ${weightsFile} has a non-finite value (NaN) at element 2`),
  );
  floats[32] = 0;
  floats[floats.length - 1] = Infinity; // bn3/moving_variance[3]
  fs.writeFileSync(weightsFile, new Uint8Array(floats.buffer));
  await assert.rejects(loadLayersModelFromDir(dir), /Weight "bn3\/moving_variance" .* \(Infinity\) at element 3/);
});

test('a topology that does not match its weights is an error naming model.json', async (t) => {
  const dir = temporaryDir(t);
  copyFixture(dir);
  const json = readJson(path.join(dir, 'model.json'));
  const manifest = json['weightsManifest'] as tf.io.WeightsManifestConfig;
  manifest[0].weights[0].name = 'renamed/kernel';
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  await assert.rejects(loadLayersModelFromDir(dir), (e: Error) => e.message.startsWith(`Cannot load the model in ${path.join(dir, 'model.json')}`));
});

test('validateModelWeights names the layer and weight holding a NaN', async () => {
  const model = await loadLayersModelFromDir(proscoreFixtureDir());
  validateModelWeights(model);
  const bn = model.getLayer('bn2');
  const weights = bn.getWeights();
  const gamma = tf.tensor1d([1, NaN, 1, 1]);
  bn.setWeights([gamma, ...weights.slice(1)]);
  assert.throws(() => validateModelWeights(model), /Layer "bn2" weight "bn2\/gamma" has a non-finite value \(NaN\) at element 1/);
  gamma.dispose();
  model.dispose();
});
