import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildChannelGraph, modelCost, type ChannelGraph } from '@ippro/graph';
import { removeGroups } from '../remove-groups';
import { perturbWeights } from './perturb-weights';
import { randomRemoval } from './random-removal';
import { zeroGroups } from './zero-groups';

/** Builds a fresh model of one architecture; the argument seeds its initial weights. */
export type ModelBuilder = (seed: number) => LayersModel;

const OUTPUT_TOLERANCE = 1e-5;

export function sampleInputs(model: LayersModel, seed: number): tf.Tensor {
  const shape = model.inputs[0].shape.slice(1) as number[];
  return tf.randomNormal([2, ...shape], 0, 1, 'float32', seed);
}

export function predict(model: LayersModel, inputs: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(inputs) as tf.Tensor).dataSync() as Float32Array);
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'outputs differ in size');
  return a.reduce((max, value, index) => Math.max(max, Math.abs(value - b[index])), 0);
}

export function weightValues(model: LayersModel): Float32Array[] {
  return model.getWeights().map((weight) => weight.dataSync() as Float32Array);
}

/** A model with non-trivial batch-norm statistics and biases, and its channel graph. */
export function preparedModel(build: ModelBuilder, seed: number): { model: LayersModel; graph: ChannelGraph } {
  const model = build(seed);
  perturbWeights(model, seed);
  return { model, graph: buildChannelGraph(model) };
}

/** (a) Removing groups that were silenced first leaves the outputs unchanged. */
export function assertZeroedRemovalIsExact(build: ModelBuilder, seed: number, fraction: number): void {
  const { model, graph } = preparedModel(build, seed);
  const removed = randomRemoval(graph, seed, fraction);
  assert.ok(removed.size > 0, 'the random removal should remove something');
  zeroGroups(model, graph, removed);
  const inputs = sampleInputs(model, seed);
  const before = weightValues(model);
  const pruned = removeGroups(model, graph, removed);
  const difference = maxAbsDifference(predict(model, inputs), predict(pruned, inputs));
  assert.ok(difference <= OUTPUT_TOLERANCE, `seed ${seed}: outputs moved by ${difference} after removing ${removed.size} zeroed groups`);
  assert.deepEqual(weightValues(model), before, 'the input model must be untouched');
  tf.dispose(inputs);
  pruned.dispose();
  model.dispose();
}

/** (b) Removing nothing gives the same layers, the same weights and the same outputs. */
export function assertEmptyRemovalIsIdentity(build: ModelBuilder, seed: number): void {
  const { model, graph } = preparedModel(build, seed);
  const copy = removeGroups(model, graph, new Set());
  assert.notEqual(copy, model);
  assert.deepEqual(copy.layers.map((layer) => layer.name), model.layers.map((layer) => layer.name));
  assert.deepEqual(copy.getConfig(), model.getConfig());
  assert.deepEqual(weightValues(copy), weightValues(model));
  const inputs = sampleInputs(model, seed);
  assert.deepEqual(predict(copy, inputs), predict(model, inputs));
  tf.dispose(inputs);
  copy.dispose();
  model.dispose();
}

/** (c) Random removals give a working model whose size the graph's cost model predicts. */
export function assertRandomRemovalsMatchCost(build: ModelBuilder, seeds: readonly number[], fraction: number): void {
  const { model, graph } = preparedModel(build, seeds[0]);
  const inputs = sampleInputs(model, seeds[0]);
  const probe = model.predict(inputs) as tf.Tensor;
  const outputShape = probe.shape;
  probe.dispose();
  for (const seed of seeds) {
    const removed = randomRemoval(graph, seed, fraction);
    const pruned = removeGroups(model, graph, removed);
    assert.equal(pruned.countParams(), modelCost(graph, removed).params, `seed ${seed}: parameter count`);
    const output = tf.tidy(() => pruned.predict(inputs) as tf.Tensor);
    assert.deepEqual(output.shape, outputShape, `seed ${seed}: output shape`);
    assert.ok(Array.from(output.dataSync()).every(Number.isFinite), `seed ${seed}: finite outputs`);
    tf.dispose(output);
    pruned.dispose();
  }
  tf.dispose(inputs);
  model.dispose();
}
