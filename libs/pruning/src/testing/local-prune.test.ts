import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { resolveDataset } from '@ippro/data';
import { buildChannelGraph, modelCost } from '@ippro/graph';
import { pruneLocally } from './local-prune';
import type { LocalPruneEvent, LocalPruneRequest } from './local-prune';
import { tinyCnn } from './tiny-cnn';

before(async () => {
  await tf.setBackend('cpu');
});

const scoringData = resolveDataset('synthetic:cifar?n=48&seed=1&classes=10');
const evaluationData = resolveDataset('synthetic:cifar?n=40&seed=2&classes=10');

function request(overrides: Partial<LocalPruneRequest> = {}): LocalPruneRequest {
  return {
    model: tinyCnn(3),
    criterion: 'proscore',
    target: { metric: 'flops', fraction: 0.4 },
    rounds: 2,
    scoringData,
    scoring: { datasetId: 'synthetic-scoring', batchSize: 16, batchShards: 2 },
    fineTuneData: scoringData,
    fineTune: { steps: 2, batchSize: 16, learningRate: 0.05 },
    evaluationData,
    evaluationBatchSize: 20,
    seed: 11,
    ...overrides,
  };
}

test('two rounds remove the target share of FLOPs and report every round', async () => {
  const events: LocalPruneEvent[] = [];
  const { model, summary } = await pruneLocally(request(), (event) => events.push(event));
  assert.equal(summary.history.length, 2);
  assert.equal(summary.stoppedBecause, 'target-reached');
  const kept = summary.history[1]?.flops ?? Infinity;
  assert.ok(kept <= summary.baseline.flops * 0.6, `kept ${kept} of ${summary.baseline.flops} FLOPs`);
  assert.ok(kept > summary.baseline.flops * 0.5, 'the planner overshot the target');
  assert.equal(model.countParams(), summary.history[1]?.params);
  assert.equal(modelCost(buildChannelGraph(model)).macs, kept);
  assert.ok(summary.history.every((round) => round.evaluated === 40));
  const phases = new Set(events.flatMap((event) => (event.kind === 'progress' ? [event.phase] : [])));
  assert.deepEqual([...phases].sort(), ['baseline', 'evaluate', 'fine-tune', 'plan', 'score', 'surgery']);
});

test('the same request gives a bit-identical model', async () => {
  const weightsOf = async (): Promise<number[][]> => {
    const { model } = await pruneLocally(request({ rounds: 1, target: { metric: 'params', fraction: 0.3 } }));
    return model.getWeights().map((weight) => Array.from(weight.dataSync()));
  };
  assert.deepEqual(await weightsOf(), await weightsOf());
});

test('magnitude criteria need no scoring data', async () => {
  const { summary } = await pruneLocally(
    request({ criterion: 'l2', scoringData: undefined, rounds: 1, fineTune: { steps: 0, batchSize: 16, learningRate: 0.05 } }),
  );
  assert.equal(summary.history.length, 1);
  assert.equal(summary.history[0]?.fineTuneLoss, undefined);
});

test('a small channel target is met by one group, without overshooting', async () => {
  const stops: string[] = [];
  const { summary } = await pruneLocally(
    request({ criterion: 'l1', target: { metric: 'channels', fraction: 0.01 }, rounds: 1 }),
    (event) => {
      if (event.kind === 'stopped') stops.push(event.reason);
    },
  );
  // One channel of the 30 counted (8 + 12 + 10 classifier outputs) already exceeds 1%.
  assert.equal(summary.history.length, 1);
  assert.equal(summary.history[0]?.removedGroups, 1);
  assert.equal(summary.history[0]?.channels, 29);
  assert.equal(summary.stoppedBecause, 'target-reached');
  assert.deepEqual(stops, []);
});
