import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildMlp } from '../mlp';
import { buildVit } from '../vit-cifar';
import { AdamW, validateAdamW } from './adamw';
import type { AdamWSettings } from './adamw';
import type { LabeledBatch } from './labeled-batch';
import { learningRateAt } from './lr-schedule';
import type { LearningRateSchedule } from './lr-schedule';
import { disposeOptimizerState } from './optimizer-state';
import { SgdTrainer, decayedKernels } from './sgd-training';
import type { SgdSettings } from './sgd-training';

before(async () => {
  await tf.setBackend('cpu');
});

interface OracleRun {
  afterStep: { learningRate: number; weights: number[][]; loss?: number }[];
  final: { momentum: number[][]; velocity: number[][] };
}

/** What libs/models/oracle/adamw_oracle.py writes. */
interface AdamWOracle {
  settings: Record<string, Omit<AdamWSettings, 'kind'>>;
  schedule: { baseLr: number; minLr: number; warmupSteps: number; totalSteps: number };
  weightDecay: number;
  steps: number;
  fixedGradients: {
    parameters: { name: string; shape: number[]; decayed: boolean }[];
    initial: number[][];
    gradients: number[][][];
    runs: Record<string, OracleRun>;
  };
  softmaxClassifier: {
    features: number;
    classes: number;
    labelSmoothing: number;
    initial: { kernel: number[]; bias: number[] };
    batches: { x: number[]; labels: number[] }[];
    runs: Record<string, OracleRun>;
  };
}

const oracle = JSON.parse(readFileSync(join(__dirname, '..', '..', 'oracle', 'adamw-oracle.json'), 'utf8')) as AdamWOracle;
const schedule: LearningRateSchedule = { kind: 'cosine', ...oracle.schedule };
/** float32 arithmetic against the float64 oracle, relative to the largest entry of each tensor. */
const TOLERANCE = 1e-6;

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  const scale = Math.max(...expected.map(Math.abs));
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs((actual[i] as number) - (expected[i] as number)) / scale;
    assert.ok(error <= TOLERANCE, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (${error.toExponential(2)} of the largest entry)`);
  }
}

const settingsOf = (name: string): AdamWSettings => ({ kind: 'adamw', ...(oracle.settings[name] as Omit<AdamWSettings, 'kind'>) });

for (const name of Object.keys(oracle.settings)) {
  test(`AdamW reproduces the float64 oracle with fixed gradients (${name} betas and epsilon)`, () => {
    const { parameters, initial, gradients } = oracle.fixedGradients;
    const run = oracle.fixedGradients.runs[name] as OracleRun;
    const variables = parameters.map((parameter, i) => tf.variable(tf.tensor(initial[i] as number[], parameter.shape), true, `oracle_${name}_${parameter.name}`));
    const adamw = new AdamW(variables, parameters.map((parameter) => parameter.decayed), settingsOf(name), 0, oracle.weightDecay);
    run.afterStep.forEach((expected, step) => {
      const learningRate = learningRateAt(schedule, step);
      assert.ok(Math.abs(learningRate - expected.learningRate) < 1e-15, `the schedule's rate at step ${step}`);
      adamw.learningRate = learningRate;
      const stepGradients = parameters.map((parameter, i) => tf.tensor(gradients[step]?.[i] as number[], parameter.shape));
      adamw.applyGradients(stepGradients);
      tf.dispose(stepGradients);
      variables.forEach((variable, i) => assertClose(variable.dataSync(), expected.weights[i] as number[], `step ${step + 1} ${parameters[i]?.name}`));
    });
    assert.equal(adamw.iterations, oracle.steps);
    adamw.dispose();
    tf.dispose(variables);
  });
}

const { softmaxClassifier: classifier } = oracle;

function classifierModel(): LayersModel {
  const model = buildMlp({ inputShape: [classifier.features], hiddenUnits: [], numClasses: classifier.classes });
  model.setWeights([tf.tensor2d(classifier.initial.kernel, [classifier.features, classifier.classes]), tf.tensor1d(classifier.initial.bias)]);
  return model;
}

function classifierBatch(step: number): LabeledBatch {
  const batch = classifier.batches[step % classifier.batches.length] as { x: number[]; labels: number[] };
  return tf.tidy(() => ({
    x: tf.tensor2d(batch.x, [batch.labels.length, classifier.features]),
    y: tf.oneHot(tf.tensor1d(batch.labels, 'int32'), classifier.classes),
  }));
}

const adamwSettings = (name: string): SgdSettings => ({
  learningRate: oracle.schedule.baseLr,
  weightDecay: oracle.weightDecay,
  labelSmoothing: classifier.labelSmoothing,
  optimizer: settingsOf(name),
});

function trainClassifier(trainer: SgdTrainer, steps: number[], check?: (step: number, loss: number) => void): void {
  for (const step of steps) {
    trainer.learningRate = learningRateAt(schedule, step);
    const batch = classifierBatch(step);
    const { loss } = trainer.stepWithMetrics(batch);
    tf.dispose([batch.x, batch.y]);
    check?.(step, loss);
  }
}

const ALL_STEPS = Array.from({ length: oracle.steps }, (_, step) => step);

for (const name of Object.keys(oracle.settings)) {
  test(`SgdTrainer with AdamW reproduces the oracle's softmax classifier: loss, decoupled decay of the kernel only (${name})`, async () => {
    const run = classifier.runs[name] as OracleRun;
    const model = classifierModel();
    const trainer = new SgdTrainer(model, adamwSettings(name));
    trainClassifier(trainer, ALL_STEPS, (step, loss) => {
      const expected = run.afterStep[step];
      assert.ok(Math.abs(loss - (expected?.loss ?? Number.NaN)) <= TOLERANCE * (expected?.loss ?? 0), `loss of step ${step + 1}: ${loss} vs ${expected?.loss}`);
      model.getWeights().forEach((weight, i) => assertClose(weight.dataSync(), expected?.weights[i] as number[], `step ${step + 1} weight ${i}`));
    });
    const state = await trainer.exportState();
    assert.equal(state.iterations, oracle.steps);
    assert.deepEqual(state.momentum.map((entry) => entry.name), ['classifier/kernel', 'classifier/bias']);
    state.momentum.forEach((entry, i) => assertClose(entry.tensor.dataSync(), run.final.momentum[i] as number[], `m of ${entry.name}`));
    state.velocity?.forEach((entry, i) => assertClose(entry.tensor.dataSync(), run.final.velocity[i] as number[], `v of ${entry.name}`));
    disposeOptimizerState(state);
    trainer.dispose();
  });
}

test('AdamW state exported and restored into a fresh trainer continues bit for bit; gradients then applyGradients is a step', async () => {
  const straight = classifierModel();
  trainClassifier(new SgdTrainer(straight, adamwSettings('defaults')), ALL_STEPS);

  const first = classifierModel();
  const before = new SgdTrainer(first, adamwSettings('defaults'));
  trainClassifier(before, [0, 1, 2]);
  const state = await before.exportState();
  const second = classifierModel(); // another model: other variable names, same layer names
  second.setWeights(first.getWeights());
  const after = new SgdTrainer(second, adamwSettings('defaults'));
  await after.importState(state);
  disposeOptimizerState(state);
  for (let step = 3; step < oracle.steps; step++) {
    // The data-parallel path: the gradients, then the update.
    after.learningRate = learningRateAt(schedule, step);
    const batch = classifierBatch(step);
    const { gradients } = after.gradientsWithMetrics(batch);
    after.applyGradients(gradients);
    tf.dispose([...gradients, batch.x, batch.y]);
  }
  straight.getWeights().forEach((weight, i) => {
    assert.deepEqual(Array.from(second.getWeights()[i]?.dataSync() ?? []), Array.from(weight.dataSync()));
  });
});

test("an optimizer state is refused by a trainer of the other optimizer, naming both", async () => {
  const sgd = new SgdTrainer(classifierModel(), { learningRate: 0.1, weightDecay: 5e-4 });
  const adamw = new SgdTrainer(classifierModel(), adamwSettings('defaults'));
  trainClassifier(sgd, [0]);
  trainClassifier(adamw, [0]);
  const sgdState = await sgd.exportState();
  const adamwState = await adamw.exportState();
  await assert.rejects(adamw.importState(sgdState), /the optimizer state is SGD's \(no second moments\), the trainer's optimizer is AdamW/);
  await assert.rejects(sgd.importState(adamwState), /the optimizer state is AdamW's \(it has second moments\), the trainer's optimizer is SGD/);
  const other = new SgdTrainer(buildMlp({ inputShape: [classifier.features], hiddenUnits: [], numClasses: 3 }), adamwSettings('defaults'));
  await assert.rejects(other.importState(adamwState), /momentum for classifier\/kernel has shape \[3,4\], the weight \[3,3\]/);
  disposeOptimizerState(sgdState);
  disposeOptimizerState(adamwState);
});

test('AdamW settings out of range, and SGD settings given to AdamW, are refused', () => {
  const defaults = settingsOf('defaults');
  assert.throws(() => validateAdamW({ ...defaults, beta1: 1 }), /^Error: beta1 must be in \[0, 1\), got 1$/);
  assert.throws(() => validateAdamW({ ...defaults, beta2: -0.1 }), /^Error: beta2 must be in \[0, 1\), got -0.1$/);
  assert.throws(() => validateAdamW({ ...defaults, epsilon: 0 }), /^Error: epsilon must be a positive number, got 0$/);
  assert.throws(() => new SgdTrainer(classifierModel(), { ...adamwSettings('defaults'), momentum: 0.9 }), /momentum and nesterov are settings of SGD, not of AdamW/);
});

test('an AdamW trainer leaves no tensors behind once disposed', () => {
  const model = classifierModel();
  const before = tf.memory().numTensors;
  const trainer = new SgdTrainer(model, adamwSettings('custom'));
  trainClassifier(trainer, [0, 1, 2]);
  trainer.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("weight decay applies to a ViT's kernels only: not biases, layer norms, the position embeddings or the class token", () => {
  const model = buildVit({ inputShape: [8, 8, 3], patchSize: 4, dModel: 8, depth: 1, numHeads: 2, mlpDim: 16, numClasses: 3, pooling: 'class-token' });
  const decayed = new Set(decayedKernels(model));
  const names = (keep: boolean) => model.trainableWeights.filter((weight) => decayed.has(weight.read() as tf.Variable) === keep).map((weight) => weight.originalName);
  assert.deepEqual(names(true), [
    'patch_embed/kernel',
    'block1_attention/query/kernel',
    'block1_attention/key/kernel',
    'block1_attention/value/kernel',
    'block1_attention/attention_output/kernel',
    'block1_mlp1/kernel',
    'block1_mlp2/kernel',
    'classifier/kernel',
  ]);
  const kept = names(false);
  for (const name of ['patch_embed/bias', 'class_token/token', 'position_embedding/embeddings', 'block1_norm1/gamma', 'block1_norm1/beta', 'block1_attention/query/bias', 'final_norm/gamma', 'classifier/bias']) {
    assert.ok(kept.includes(name), `${name} is not decayed (kept: ${kept.join(', ')})`);
  }
});
