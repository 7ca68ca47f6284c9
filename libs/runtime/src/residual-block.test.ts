import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  assertNoLeak,
  BackendName,
  backendDataIds,
  compare,
  onBackend,
  randomValues,
  seededRandom,
  useBackends,
} from './testing/backends';
import { candidateBackends, CandidateBackend } from './testing/native';
import { registerWasmTrainingKernels } from './wasm/register-training-kernels';
import { FusedBatchNormV3 } from './native/kernels/fused-batch-norm-v3';
import { FusedBatchNormGradV3 } from './native/kernels/fused-batch-norm-grad-v3';
import { ReluGrad } from './native/kernels/relu-grad';

const tolerance = 1e-4;
const batch = 7;
const learningRate = 0.1;
const momentum = 0.9;

interface WeightValues {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface GradientRun {
  loss: number;
  gradients: WeightValues[];
  /**
   * After one SGD step (Nesterov momentum) on those gradients: how far each weight
   * moved, and the batch-norm running statistics the training-mode forward pass left.
   */
  updates: WeightValues[];
  /** Names of the kernels the step ran. */
  kernels: string[];
}

type ModelBuilder = () => tfl.LayersModel;

before(async () => {
  // Leaks are still checked around the whole gradient computation below.
  await useBackends({ engineLeakChecks: false });
  registerWasmTrainingKernels();
});

/** conv-bn-relu-conv-bn added to its input, as in a ResNet basic block. */
function residualBlock(): tfl.LayersModel {
  const input = tfl.input({ shape: [9, 11, 4] });
  // No bias before batch norm: its true gradient is zero, so comparing the
  // rounding noise on two backends would be meaningless (and it is the usual
  // ResNet layout anyway).
  const conv = (): tfl.layers.Layer => tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false });
  let branch = conv().apply(input) as tfl.SymbolicTensor;
  branch = tfl.layers.batchNormalization().apply(branch) as tfl.SymbolicTensor;
  branch = tfl.layers.reLU().apply(branch) as tfl.SymbolicTensor;
  branch = conv().apply(branch) as tfl.SymbolicTensor;
  branch = tfl.layers.batchNormalization().apply(branch) as tfl.SymbolicTensor;
  const output = tfl.layers.add().apply([input, branch]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

/**
 * Depthwise layers sit behind a conv so that their input gradient is needed
 * too; one is strided with multiplier 2, the other 'valid' with multiplier 1.
 */
function depthwiseBlock(): tfl.LayersModel {
  const input = tfl.input({ shape: [11, 9, 3] });
  let y = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  y = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', useBias: false })
    .apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid' }).apply(y) as tfl.SymbolicTensor;
  const output = tfl.layers.conv2d({ filters: 5, kernelSize: 1 }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

/** Weight values for a fresh model, identical for both backends. */
function seededWeights(model: tfl.LayersModel, seed: number): tf.Tensor[] {
  const random = seededRandom(seed);
  return model.weights.map((weight) => {
    const shape = concreteShape(weight.shape);
    const values = randomValues(shape, random);
    // Moving variances must stay positive; they are unused in training mode.
    const positive = weight.name.includes('moving_variance') ? values.map((v) => Math.abs(v) + 0.5) : values;
    return tf.tensor(positive, shape);
  });
}

/** Layer shapes use null for the batch dimension; every other one is known here. */
function concreteShape(shape: tfl.Shape): number[] {
  return shape.map((dim) => {
    if (dim === null) {
      throw new Error(`shape [${shape}] is not concrete`);
    }
    return dim;
  });
}

function randomBatch(symbolic: tfl.SymbolicTensor | undefined, random: () => number): tf.Tensor {
  if (symbolic === undefined) {
    throw new Error('model must have one input and one output');
  }
  const shape = [batch, ...concreteShape(symbolic.shape.slice(1))];
  return tf.tensor(randomValues(shape, random), shape);
}

function asVariable(tensor: tf.Tensor): tf.Variable {
  if (!(tensor instanceof tf.Variable)) {
    throw new Error('layer weight is not backed by a tf.Variable');
  }
  return tensor;
}

function squaredErrorLoss(model: tfl.LayersModel, input: tf.Tensor, target: tf.Tensor): tf.Scalar {
  const prediction = model.apply(input, { training: true }) as tf.Tensor;
  return tf.mean(tf.square(tf.sub(prediction, target)));
}

function weightValues(model: tfl.LayersModel): WeightValues[] {
  return model.weights.map((weight) => {
    const value = weight.read();
    return { name: weight.originalName, shape: value.shape, values: Float32Array.from(value.dataSync()) };
  });
}

/** Trainable weights: how far the step moved them; running statistics: their new values. */
function updatesOf(model: tfl.LayersModel, before: WeightValues[]): WeightValues[] {
  const trainable = new Set(model.trainableWeights.map((weight) => weight.originalName));
  return weightValues(model).map((after, index) => {
    const start = before[index];
    if (start === undefined || !trainable.has(after.name)) return after;
    return { ...after, values: after.values.map((value, i) => value - (start.values[i] ?? NaN)) };
  });
}

/** One training step's loss, variable gradients and weight updates of a freshly built model. */
async function gradientsOn(backend: BackendName, build: ModelBuilder, seed: number): Promise<GradientRun> {
  return onBackend(backend, async () => {
    const model = build();
    const weights = seededWeights(model, seed);
    model.setWeights(weights);
    tf.dispose(weights);
    const random = seededRandom(seed + 1);
    const input = randomBatch(model.inputs[0], random);
    const target = randomBatch(model.outputs[0], random);

    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = backendDataIds(backend);
    const trainable = model.trainableWeights.map((weight) => asVariable(weight.read()));
    const before = weightValues(model);
    let step: Omit<GradientRun, 'kernels' | 'updates'> | undefined;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => squaredErrorLoss(model, input, target), trainable);
      step = {
        loss: value.dataSync()[0] ?? NaN,
        gradients: trainable.map((variable) => readGradient(variable, grads)),
      };
      const optimizer = tf.train.momentum(learningRate, momentum, true);
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      optimizer.dispose();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const updates = updatesOf(model, before);
    // tfjs 4.22: MomentumOptimizer.dispose() leaves its learning-rate scalar; the engine
    // still counts it, so the leak check covers the step's own tensors only.
    assertNoLeak(backend, tensorsBefore + 1, dataIdsBefore + 1);

    tf.dispose([input, target]);
    model.dispose();
    if (step === undefined) {
      throw new Error('gradient step did not run');
    }
    return { ...step, updates, kernels: profile.kernelNames };
  });
}

function readGradient(variable: tf.Variable, grads: tf.NamedTensorMap): WeightValues {
  const gradient = grads[variable.name];
  if (gradient === undefined) {
    throw new Error(`no gradient for ${variable.name}`);
  }
  return { name: variable.name, shape: gradient.shape, values: Float32Array.from(gradient.dataSync()) };
}

function assertSameValues(actual: WeightValues[], expected: WeightValues[], what: string): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  expected.forEach((reference, index) => {
    const candidate = actual[index];
    assert.ok(candidate !== undefined);
    assert.deepEqual(candidate.shape, reference.shape, `shape of ${reference.name}`);
    const { relative, maxAbsReference } = compare(candidate.values, reference.values);
    assert.ok(maxAbsReference > 0, `${what} of ${reference.name} is all zero, the test would prove nothing`);
    assert.ok(relative <= tolerance, `${what} of ${reference.name}: relative error ${relative}`);
    worst = Math.max(worst, relative);
  });
  return worst;
}

async function assertSameStep(
  backend: CandidateBackend,
  build: ModelBuilder,
  seed: number,
  kernelsUnderTest: string[],
): Promise<string> {
  const reference = await gradientsOn('cpu', build, seed);
  const candidate = await gradientsOn(backend, build, seed);
  for (const kernel of kernelsUnderTest) {
    assert.ok(candidate.kernels.includes(kernel), `the ${backend} step never ran ${kernel}`);
  }
  assert.ok(Math.abs(candidate.loss - reference.loss) <= tolerance * Math.abs(reference.loss), 'loss differs');
  const gradients = assertSameValues(candidate.gradients, reference.gradients, 'gradient');
  const updates = assertSameValues(candidate.updates, reference.updates, 'update');
  // Updates are differences of nearby float32 weights, so their error floor is the
  // weights' rounding, the same on every backend.
  return `worst relative error: gradients ${gradients.toExponential(2)}, updates ${updates.toExponential(2)}`;
}

/** The kernels each backend must run in these blocks: the ones ippro registers for it. */
const kernelsUnderTest: Record<CandidateBackend, { residual: string[]; depthwise: string[] }> = {
  wasm: {
    residual: [Conv2DBackpropFilter],
    depthwise: [Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput],
  },
  tensorflow: {
    residual: [FusedBatchNormV3, FusedBatchNormGradV3, ReluGrad],
    depthwise: [FusedBatchNormV3, FusedBatchNormGradV3, ReluGrad],
  },
};

for (const { backend, skip } of candidateBackends()) {
  test(`residual block: one training step on ${backend} matches cpu, variable by variable`, { skip }, async (t) => {
    t.diagnostic(await assertSameStep(backend, residualBlock, 11, kernelsUnderTest[backend].residual));
  });

  test(`depthwise block: one training step on ${backend} matches cpu, variable by variable`, { skip }, async (t) => {
    t.diagnostic(await assertSameStep(backend, depthwiseBlock, 23, kernelsUnderTest[backend].depthwise));
  });
}
