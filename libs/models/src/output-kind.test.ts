import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { classificationLoss, perSampleClassificationLoss, perSampleHits } from './loss';
import { classifierHead, OutputKindError, resolveOutputKind } from './output-kind';
import type { OutputSetting } from './output-kind';
import { SgdTrainer } from './training/sgd-training';
import { evaluateBatches } from './training/evaluate';
import type { LabeledBatch } from './training/labeled-batch';

before(async () => {
  await tf.setBackend('cpu');
});

type Ending = (x: tfl.SymbolicTensor) => tfl.SymbolicTensor;

/** Dense 4 -> relu -> Dense `units` (activation `last`), then `ending`; the same seeds give the same weights. */
function classifier(last: string, ending: Ending = (x) => x, units = 3): tfl.LayersModel {
  const input = tfl.input({ shape: [5], name: 'features' });
  const hidden = tfl.layers.dense({ units: 4, activation: 'relu', name: 'hidden', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units, activation: last as 'linear', name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), biasInitializer: tfl.initializers.constant({ value: 0.1 }) })
    .apply(hidden) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: ending(out) });
}

const softmaxLayer: Ending = (x) => tfl.layers.activation({ activation: 'softmax', name: 'probs' }).apply(x) as tfl.SymbolicTensor;
const sigmoidLayer: Ending = (x) => tfl.layers.activation({ activation: 'sigmoid', name: 'probs' }).apply(x) as tfl.SymbolicTensor;

function rejects(model: tfl.LayersModel, setting: OutputSetting, ...fragments: RegExp[]): void {
  assert.throws(() => resolveOutputKind(model, setting), (error: unknown) => {
    assert.ok(error instanceof OutputKindError, String(error));
    for (const fragment of fragments) assert.match(error.message, fragment);
    return true;
  });
}

test("'auto' reads the kind from the output layer's activation", () => {
  assert.equal(resolveOutputKind(classifier('softmax')), 'probabilities');
  assert.equal(resolveOutputKind(classifier('linear')), 'logits');
  assert.equal(resolveOutputKind(classifier('sigmoid', (x) => x, 1)), 'sigmoid');
  assert.equal(resolveOutputKind(classifier('linear', softmaxLayer)), 'probabilities');
  assert.equal(resolveOutputKind(classifier('linear', (x) => tfl.layers.softmax({ name: 'soft' }).apply(x) as tfl.SymbolicTensor)), 'probabilities');
  const dropped = classifier('linear', (x) => tfl.layers.dropout({ rate: 0.5, name: 'drop' }).apply(x) as tfl.SymbolicTensor);
  assert.equal(classifierHead(dropped).outputLayer, 'out', 'Dropout is looked through');
  assert.equal(resolveOutputKind(dropped), 'logits');
  const sequential = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2, activation: 'softmax' })] });
  assert.equal(resolveOutputKind(sequential), 'probabilities');
});

test('outputs ippro cannot score are refused, naming the output layer and what was found', () => {
  rejects(classifier('relu'), 'auto', /output layer 'out' \(Dense\) has activation relu/, /probabilities \(softmax\), logits \(linear\) or sigmoid/);
  rejects(classifier('tanh'), 'auto', /'out'.*activation tanh/);
  rejects(classifier('linear', (x) => tfl.layers.reLU({ name: 'rectify' }).apply(x) as tfl.SymbolicTensor), 'auto', /output layer 'rectify' \(ReLU\) has activation relu/);
  const input = tfl.input({ shape: [4, 4, 2] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax', name: 'conv' }).apply(input) as tfl.SymbolicTensor;
  rejects(tfl.model({ inputs: input, outputs: conv }), 'auto', /output layer 'conv' \(Conv2D\) gives outputs of shape \[batch, 4, 4, 3\]/);
  const features = tfl.input({ shape: [3] });
  const a = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'a' }).apply(features) as tfl.SymbolicTensor;
  const b = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'b' }).apply(features) as tfl.SymbolicTensor;
  rejects(tfl.model({ inputs: features, outputs: [a, b] }), 'auto', /the model has 2 outputs/);
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(tfl.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(input)) as tfl.SymbolicTensor;
  const pooledModel = tfl.model({ inputs: input, outputs: pooled });
  rejects(pooledModel, 'auto', /output layer 'gap' \(GlobalAveragePooling2D\) has no activation ippro can read; state the output kind/);
  assert.equal(resolveOutputKind(pooledModel, 'logits'), 'logits', 'a stated kind covers what auto cannot read');
  rejects(classifier('softmax'), 'logits', /output kind logits contradicts the model: output layer 'out' \(Dense\) has activation softmax, which gives probabilities/);
  rejects(classifier('linear'), 'sigmoid', /output kind sigmoid contradicts the model/);
  rejects(classifier('linear'), 'softmax' as OutputSetting, /unknown output kind 'softmax'; known: auto, probabilities, logits, sigmoid/);
});

test('a sigmoid computed by the last layer is read before its activation', () => {
  const dense = classifierHead(classifier('sigmoid', (x) => x, 2));
  assert.equal(dense.preActivation, true);
  const activation = classifierHead(classifier('linear', sigmoidLayer, 2));
  assert.equal(activation.preActivation, true);
  const x = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
  const model = classifier('sigmoid', (y) => y, 2);
  const head = classifierHead(model);
  const z = head.forward(x, false);
  const gap = tf.max(tf.abs(tf.sub(tf.sigmoid(z), model.predict(x) as tf.Tensor))).dataSync()[0] as number;
  assert.ok(gap < 1e-6, `sigmoid(pre-activation) is the model output (off by ${gap})`);
  const behind = classifier('sigmoid', (y) => tfl.layers.dropout({ rate: 0.1 }).apply(y) as tfl.SymbolicTensor, 2);
  assert.equal(classifierHead(behind).preActivation, false, 'behind a look-through layer the probabilities are clipped instead');
});

function closeTo(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('the loss of each kind, exactly as docs/ippro.md states it', () => {
  const z = tf.tensor2d([[2, -1, 0.5], [0, 0, 0]]);
  const labels = tf.tensor1d([0, 2], 'int32');
  const logits = perSampleClassificationLoss(z, labels, { output: 'logits' }).arraySync();
  const expected = [0, 1].map((row) => {
    const values = (z.arraySync() as number[][])[row] as number[];
    const logSum = Math.log(values.reduce((sum, v) => sum + Math.exp(v), 0));
    return logSum - (values[row === 0 ? 0 : 2] as number);
  });
  logits.forEach((value, i) => closeTo(value, expected[i] as number, 1e-6, `logits loss ${i}`));
  const probabilities = perSampleClassificationLoss(tf.softmax(z), labels).arraySync();
  probabilities.forEach((value, i) => closeTo(value, expected[i] as number, 1e-6, `probabilities loss ${i}`));

  const s = tf.tensor2d([[3, -2], [0, 40]]);
  const targets = tf.tensor2d([[1, 0], [1, 1]]);
  const stable = perSampleClassificationLoss(s, targets, { output: 'sigmoid', preActivation: true }).arraySync();
  const bce = (zv: number, t: number): number => Math.max(zv, 0) - zv * t + Math.log1p(Math.exp(-Math.abs(zv)));
  closeTo(stable[0] as number, (bce(3, 1) + bce(-2, 0)) / 2, 1e-6, 'sigmoid row 0');
  closeTo(stable[1] as number, (bce(0, 1) + bce(40, 1)) / 2, 1e-6, 'sigmoid row 1');
  const clipped = perSampleClassificationLoss(tf.sigmoid(s), targets, { output: 'sigmoid' }).arraySync();
  closeTo(clipped[0] as number, stable[0] as number, 1e-5, 'clipped = stable away from saturation');
  const saturated = perSampleClassificationLoss(tf.tensor2d([[-40]]), tf.tensor2d([[1]]), { output: 'sigmoid', preActivation: true }).arraySync();
  closeTo(saturated[0] as number, 40, 1e-6, 'the pre-activation loss does not saturate');
  const saturatedClipped = perSampleClassificationLoss(tf.sigmoid(tf.tensor2d([[-40]])), tf.tensor2d([[1]]), { output: 'sigmoid' }).arraySync();
  closeTo(saturatedClipped[0] as number, -Math.log(1e-7), 1e-3, 'probabilities are clipped to [1e-7, 1 - 1e-7]');
});

test('label smoothing as Keras defines it for each kind', () => {
  const z = tf.tensor2d([[1.5, -0.5, 0.25]]);
  const smoothing = 0.3;
  const softmax = (tf.logSoftmax(z).arraySync() as number[][])[0] as number[];
  const target = [1 - smoothing + smoothing / 3, smoothing / 3, smoothing / 3];
  const expected = -softmax.reduce((sum, logP, c) => sum + (target[c] as number) * logP, 0);
  closeTo(classificationLoss(z, tf.tensor1d([0], 'int32'), { output: 'logits', labelSmoothing: smoothing }).dataSync()[0] as number, expected, 1e-6, 'logits');
  const s = tf.tensor2d([[2, -1]]);
  const t = [1 * (1 - smoothing) + 0.5 * smoothing, 0 * (1 - smoothing) + 0.5 * smoothing];
  const p = [2, -1].map((v) => 1 / (1 + Math.exp(-v)));
  const bce = -((t[0] as number) * Math.log(p[0] as number) + (1 - (t[0] as number)) * Math.log(1 - (p[0] as number)) + (t[1] as number) * Math.log(p[1] as number) + (1 - (t[1] as number)) * Math.log(1 - (p[1] as number))) / 2;
  closeTo(classificationLoss(s, tf.tensor2d([[1, 0]]), { output: 'sigmoid', preActivation: true, labelSmoothing: smoothing }).dataSync()[0] as number, bce, 1e-6, 'sigmoid');
});

test('a sigmoid hit is every unit right at 0.5; one unit takes labels 0/1 or two-class one-hot rows', () => {
  const z = tf.tensor2d([[2, -1], [2, 1], [-3, -3]]);
  assert.deepEqual(Array.from(perSampleHits(z, tf.tensor2d([[1, 0], [1, 0], [0, 0]]), { output: 'sigmoid', preActivation: true }).dataSync()), [1, 0, 1]);
  const one = tf.tensor2d([[0.9], [0.2], [0.6]]);
  assert.deepEqual(Array.from(perSampleHits(one, tf.tensor1d([1, 0, 0], 'int32'), { output: 'sigmoid' }).dataSync()), [1, 1, 0]);
  assert.deepEqual(Array.from(perSampleHits(one, tf.tensor2d([[0, 1], [1, 0], [1, 0]]), { output: 'sigmoid' }).dataSync()), [1, 1, 0]);
  assert.throws(() => perSampleClassificationLoss(one, tf.tensor1d([2, 0, 1], 'int32'), { output: 'sigmoid' }), /label 0 of the batch is 2; expected an integer class in \[0, 2\)/);
});

function batch(): LabeledBatch {
  const x = tf.randomNormal([12, 5], 0, 1, 'float32', 7);
  const labels = Array.from({ length: 12 }, (_, i) => i % 3);
  return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), 3) };
}

function weightsOf(model: tfl.LayersModel): number[] {
  return model.getWeights().flatMap((weight) => Array.from(weight.dataSync()));
}

test('a model ending in logits and its twin with a softmax appended train and evaluate alike', () => {
  const logits = classifier('linear');
  const twin = classifier('linear', softmaxLayer);
  const data = batch();
  const a = evaluateBatches(logits, [data]);
  const b = evaluateBatches(twin, [data]);
  assert.equal(a.correct, b.correct);
  closeTo(a.lossSum, b.lossSum, 1e-5, 'evaluation loss');
  const trainers = [new SgdTrainer(logits, { learningRate: 0.1 }), new SgdTrainer(twin, { learningRate: 0.1 })];
  for (let step = 0; step < 5; step += 1) {
    const [lossA, lossB] = trainers.map((trainer) => trainer.step(data));
    closeTo(lossA as number, lossB as number, 1e-5, `step ${step} loss`);
  }
  const [wa, wb] = [weightsOf(logits), weightsOf(twin)];
  wa.forEach((value, i) => closeTo(value, wb[i] as number, 1e-5, `weight ${i}`));
  trainers.forEach((trainer) => trainer.dispose());
});

test('a sigmoid model learns binary and multi-label data', () => {
  const x = tf.randomNormal([32, 5], 0, 1, 'float32', 11);
  const first = (x.arraySync() as number[][]).map((row) => row[0] as number);
  const binary: LabeledBatch = { x, y: tf.tensor1d(first.map((v) => (v > 0 ? 1 : 0)), 'int32') };
  const binaryModel = classifier('sigmoid', (y) => y, 1);
  const trainer = new SgdTrainer(binaryModel, { learningRate: 0.5 });
  const before = trainer.step(binary);
  let after = before;
  for (let step = 0; step < 80; step += 1) after = trainer.step(binary);
  assert.ok(after < before / 2, `binary loss went from ${before} to ${after}`);
  assert.ok(evaluateBatches(binaryModel, [binary]).correct >= 28);
  trainer.dispose();
  const second = (x.arraySync() as number[][]).map((row) => row[1] as number);
  const multi: LabeledBatch = { x, y: tf.tensor2d(first.map((v, i) => [v > 0 ? 1 : 0, (second[i] as number) > 0 ? 1 : 0])) };
  const multiModel = classifier('linear', sigmoidLayer, 2);
  const multiTrainer = new SgdTrainer(multiModel, { learningRate: 0.5 });
  const start = multiTrainer.step(multi);
  let end = start;
  for (let step = 0; step < 80; step += 1) end = multiTrainer.step(multi);
  assert.ok(end < start / 2, `multi-label loss went from ${start} to ${end}`);
  multiTrainer.dispose();
});
