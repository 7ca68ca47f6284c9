import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildChannelGraph } from '@ippro/graph';
import { evaluateBatches } from '@ippro/models';
import { accumulateGradStats } from './accumulate-grad-stats';
import type { ScoringBatch } from './accumulate-grad-stats';
import { groupWeights } from './group-weights';
import { proscoreFromStats } from './proscore';
import { proscoreTrajectory } from './proscore-trajectory';
import { taylorScores } from './baselines';

before(async () => {
  await tf.setBackend('cpu');
});

/** conv-bn-relu, conv-relu, pooling, Dense `units` (activation `last`) and `ending`: prunable groups in both convs. */
function convClassifier(last: 'linear' | 'sigmoid', units: number, ending?: 'softmax' | 'sigmoid'): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 2], name: 'image' });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ name: 'relu1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  let out = tfl.layers.dense({ units, activation: last, name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tfl.SymbolicTensor;
  if (ending !== undefined) out = tfl.layers.activation({ activation: ending, name: 'probs' }).apply(out) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

function batches(labels: (i: number) => number[] | number, count = 3): ScoringBatch[] {
  return Array.from({ length: count }, (_, b) => {
    const rows = Array.from({ length: 8 }, (_, i) => labels(b * 8 + i));
    const inputs = tf.randomNormal([8, 6, 6, 2], 0, 1, 'float32', 100 + b);
    return { inputs, labels: Array.isArray(rows[0]) ? tf.tensor2d(rows as number[][]) : tf.tensor1d(rows as number[], 'int32') };
  });
}

function relativelyClose(actual: number, expected: number, what: string): void {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale <= 1e-5 || Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);
}

async function scores(model: tfl.LayersModel, data: ScoringBatch[]): Promise<{ proscore: Map<string, number>; taylor: Map<string, number>; trajectory: Map<string, number>; loss: number }> {
  const graph = buildChannelGraph(model);
  const stats = await accumulateGradStats(model, graph, data, { datasetId: 'test', modelHash: 'test' });
  const weights = groupWeights(model, graph);
  const table = (rows: { id: string; score: number }[]): Map<string, number> => new Map(rows.map((row) => [row.id, row.score]));
  const trajectory = await proscoreTrajectory(model, graph, data, { steps: 2, learningRate: 0.05 });
  return { proscore: table(proscoreFromStats(stats, weights).rows), taylor: table(taylorScores(stats, weights).rows), trajectory: table(trajectory.rows), loss: stats.sumLoss };
}

test('a model ending in logits and its twin with a softmax appended get the same scores (1e-5 relative)', async () => {
  const data = batches((i) => i % 3);
  const logits = await scores(convClassifier('linear', 3), data);
  const twin = await scores(convClassifier('linear', 3, 'softmax'), data);
  relativelyClose(logits.loss, twin.loss, 'summed loss');
  assert.ok(logits.proscore.size > 0);
  for (const reading of ['proscore', 'taylor', 'trajectory'] as const) {
    assert.deepEqual([...logits[reading].keys()], [...twin[reading].keys()]);
    for (const [id, score] of logits[reading]) relativelyClose(score, twin[reading].get(id) as number, `${reading} ${id}`);
  }
});

test('a sigmoid model is scored from its pre-activation, multi-label and binary alike', async () => {
  const multi = batches((i) => [i % 2, (i >> 1) % 2]);
  const dense = await scores(convClassifier('sigmoid', 2), multi);
  const activation = await scores(convClassifier('linear', 2, 'sigmoid'), multi);
  relativelyClose(dense.loss, activation.loss, 'Dense(sigmoid) and Activation(sigmoid) losses');
  for (const [id, score] of dense.proscore) {
    assert.ok(Number.isFinite(score), `${id} scored ${score}`);
    relativelyClose(score, activation.proscore.get(id) as number, `proscore ${id}`);
  }
  const model = convClassifier('sigmoid', 1);
  const binary = batches((i) => i % 2);
  const graph = buildChannelGraph(model);
  const stats = await accumulateGradStats(model, graph, binary, { datasetId: 'binary', modelHash: 'binary' });
  const evaluated = evaluateBatches(model, binary.map((batch) => ({ x: batch.inputs as tf.Tensor, y: batch.labels })));
  relativelyClose(stats.sumLoss, evaluated.lossSum, 'scoring loss = evaluation loss');
  assert.equal(stats.count, 24);
});
