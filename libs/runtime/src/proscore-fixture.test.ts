import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { BackendName, compare, onBackend, useBackends } from './testing/backends';
import { nativeStatus } from './testing/native';

/**
 * The proscore-mlp oracle (computed in float64 without autodiff, see its README) checked
 * on every backend: forward probabilities, loss, and the kernel-column gradients G of
 * every prunable group, through dense layers, inference-mode batch norm, ReLU, a residual
 * add and a softmax.
 */
const tolerance = 1e-4;

interface Expected {
  loss: number;
  probs: number[];
  groups: { id: string; G: number[] }[];
}

interface Data {
  inputs: number[][];
  labels: number[];
}

function workspaceRoot(from: string): string | undefined {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
  }
  return undefined;
}

const root = workspaceRoot(__dirname);
const fixtureDir = root === undefined ? undefined : join(root, '..', 'shared', 'fixtures', 'proscore-mlp');
const fixtureMissing = fixtureDir === undefined || !existsSync(join(fixtureDir, 'expected.json'));

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(fixtureDir ?? '', name), 'utf8')) as T;
}

async function loadModel(): Promise<tfl.LayersModel> {
  const { modelTopology, weightsManifest } = readJson<{ modelTopology: object; weightsManifest: tf.io.WeightsManifestConfig }>('model.json');
  const bytes = readFileSync(join(fixtureDir ?? '', 'weights.bin'));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const weightSpecs = weightsManifest.flatMap((group) => group.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));
}

interface Run {
  loss: number;
  probs: Float32Array;
  /** Kernel gradients by weight name (e.g. dense1/kernel), [in, out] row-major. */
  kernels: Map<string, { values: Float32Array; columns: number }>;
}

/** Mean categorical cross-entropy over all samples (the batches are of equal size) and its kernel gradients. */
async function runOn(backend: BackendName): Promise<Run> {
  return onBackend(backend, async () => {
    const model = await loadModel();
    const data = readJson<Data>('data.json');
    const classes = model.outputs[0]?.shape[1] ?? 0;
    let run: Run | undefined;
    tf.tidy(() => {
      const x = tf.tensor2d(data.inputs);
      const y = tf.oneHot(tf.tensor1d(data.labels, 'int32'), classes);
      const kernels = model.trainableWeights.filter((weight) => weight.originalName.endsWith('/kernel'));
      let probs = new Float32Array();
      const { value, grads } = tf.variableGrads(() => {
        const p = model.apply(x, { training: false }) as tf.Tensor;
        probs = Float32Array.from(p.dataSync());
        return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(p)), -1))) as tf.Scalar;
      }, kernels.map((weight) => weight.read() as tf.Variable));
      const byName = new Map(
        kernels.map((weight) => {
          const gradient = grads[(weight.read() as tf.Variable).name] as tf.Tensor;
          return [weight.originalName, { values: Float32Array.from(gradient.dataSync()), columns: gradient.shape[1] ?? 1 }];
        }),
      );
      run = { loss: value.dataSync()[0] ?? NaN, probs, kernels: byName };
    });
    model.dispose();
    if (run === undefined) throw new Error('the gradient step did not run');
    return run;
  });
}

function column(run: Run, kernel: string, index: number): number[] {
  const gradient = run.kernels.get(kernel);
  if (gradient === undefined) throw new Error(`no gradient for ${kernel}`);
  return Array.from(gradient.values).filter((_, i) => i % gradient.columns === index);
}

/** G of a group: its members' kernel columns, in the oracle's order. */
function groupGradient(run: Run, id: string): number[] {
  const [layer, unit] = id.split(':');
  const index = Number(unit);
  if (layer === 'dense1') return column(run, 'dense1/kernel', index);
  if (layer === 'residual_add') return [...column(run, 'dense2/kernel', index), ...column(run, 'dense3/kernel', index)];
  throw new Error(`unknown group ${id}`);
}

before(() => useBackends({ engineLeakChecks: false }));

const native = nativeStatus();
const backends: { backend: BackendName; skip: false | string }[] = [
  { backend: 'cpu', skip: false },
  { backend: 'wasm', skip: false },
  { backend: 'tensorflow', skip: native.available ? false : native.reason },
];

for (const { backend, skip } of backends) {
  const reason = fixtureMissing ? `the proscore-mlp fixture is not at ${fixtureDir ?? '../shared/fixtures'}` : skip;
  test(`proscore-mlp oracle: probabilities, loss and group gradients on ${backend}`, { skip: reason }, async (t) => {
    const expected = readJson<Expected>('expected.json');
    const run = await runOn(backend);
    assert.ok(Math.abs(run.loss - expected.loss) <= tolerance * expected.loss, `loss ${run.loss} vs ${expected.loss}`);
    const probs = compare(run.probs, expected.probs);
    assert.ok(probs.relative <= tolerance, `probabilities: relative error ${probs.relative}`);
    let worst = probs.relative;
    for (const group of expected.groups) {
      const { relative, maxAbsReference } = compare(groupGradient(run, group.id), group.G);
      assert.ok(maxAbsReference > 0 || group.G.every((g) => g === 0));
      assert.ok(relative <= tolerance, `${group.id} G: relative error ${relative}`);
      worst = Math.max(worst, relative);
    }
    t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
  });
}
