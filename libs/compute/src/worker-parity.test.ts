import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { DrawnSamples, JsonDataset, resolveDataset } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { buildChannelGraph, loadLayersModelFromDir } from '@ippro/graph';
import { deserializeGradStats, groupWeights, mergeGradStatsInOrder, proscoreFromStats, rankGroups, serializeGradStats } from '@ippro/importance';
import type { GradStats } from '@ippro/importance';
import { datasetFromArtifact, modelFromArtifact, modelToArtifact } from '@ippro/model-artifact';
import { shardDataset } from '@ippro/compute-core';
import { buildSmallCnn, buildVit, evaluateDataset } from '@ippro/models';
import { getScores } from '@ippro/compute-core';
import {
  applyBatchNormStatistics,
  batchShards,
  computeShardedGradStats,
  concatBatchNormStatistics,
  deserializeBatchNormStatistics,
  fineTune,
  recalibrateBatchNorm,
  scoreTrajectory,
  scoringShards,
} from '@ippro/pruning';
import type { FineTuneSettings } from '@ippro/pruning';
import { PROSCORE_FIXTURE, startCluster } from './testing/worker-fixture';
import type { Cluster } from './testing/worker-fixture';

const TOLERANCE = 1e-6;
let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ slots: 2 });
});

after(async () => {
  await cluster.close();
});

function assertClose(actual: number, expected: number, what: string, floor = 0): void {
  const scale = Math.max(Math.abs(expected), floor);
  assert.ok(Math.abs(actual - expected) <= TOLERANCE * scale || actual === expected, `${what}: got ${actual}, expected ${expected}`);
}

/** Compares like libs/importance's shard tests: sums relative to the largest of their kind, scores to themselves. */
function assertSameStats(actual: GradStats, expected: GradStats): void {
  assert.deepEqual(actual.header, expected.header);
  assert.equal(actual.count, expected.count);
  assertClose(actual.sumLoss, expected.sumLoss, 'sumLoss');
  const gScale = Math.max(...expected.sumG.flatMap((values) => Array.from(values, Math.abs)));
  const rScale = Math.max(...Array.from(expected.sumR, Math.abs));
  expected.header.groupIds.forEach((id, index) => {
    expected.sumG[index]?.forEach((value, k) => assertClose(actual.sumG[index]?.[k] ?? Number.NaN, value, `${id} sumG[${k}]`, gScale));
    assertClose(actual.sumR[index] ?? Number.NaN, expected.sumR[index] ?? Number.NaN, `${id} sumR`, rScale);
  });
}

/** Every shard of the plan through ComputeGradStats (concurrently, as the orchestrator would), merged in order. */
async function statsThroughWorker(modelId: string, dataset: { spec?: string; artifactId?: string }, plan: ReturnType<typeof scoringShards>, batchSize: number): Promise<GradStats> {
  const rows = await Promise.all(
    plan.map(async (row) => {
      const parts: GradStats[] = [];
      for (const shard of row) {
        let progress = 0;
        const result = await cluster.client.computeGradStats(
          {
            jobId: `parity ${shard.batches.start}-${shard.batches.end}`,
            modelArtifactId: modelId,
            dataset,
            batches: shard.batches,
            batchSize,
            groupIds: [...shard.groups],
            criterion: { batchNormMode: 'BATCH_NORM_MODE_INFERENCE', includeBias: false },
          },
          { onProgress: (event) => (progress = event.done), timeoutMs: 60_000 },
        );
        assert.equal(progress, shard.batches.end - shard.batches.start, 'one progress message per batch');
        const bytes = await cluster.artifacts.getArtifact(result.statsArtifactId);
        const stats = deserializeGradStats(bytes);
        assert.equal(result.summary?.count, stats.count);
        assert.equal(result.summary?.statsBytes, bytes.length);
        assert.deepEqual([result.summary?.sampleStart, result.summary?.sampleEnd], stats.header.sampleRange);
        parts.push(stats);
      }
      return mergeGradStatsInOrder(parts);
    }),
  );
  return mergeGradStatsInOrder(rows);
}

describe('ComputeGradStats parity with the in-process reference', () => {
  it('proscore-mlp, 3 batch shards x 2 layer shards from a dataset artifact: same statistics and ranking', async () => {
    const fileModel = await loadLayersModelFromDir(PROSCORE_FIXTURE);
    const modelId = await cluster.putModel(fileModel);
    const model = await modelFromArtifact(modelToArtifact(fileModel));
    const json = JsonDataset.read(join(PROSCORE_FIXTURE, 'data.json'));
    const datasetId = await cluster.putDataset(json);
    const dataset = datasetFromArtifact(await cluster.artifacts.getArtifact(datasetId));
    const graph = buildChannelGraph(model);
    const settings = { datasetId: 'proscore-mlp', batchSize: 8, modelHash: modelId };
    const plan = scoringShards(graph, dataset, { ...settings, batchShards: 3, layerShards: 2 });
    assert.deepEqual(plan.map((row) => row.length), [3, 3]);

    const remote = await statsThroughWorker(modelId, { spec: 'proscore-mlp', artifactId: datasetId }, plan, 8);
    // The same sharding in process gives the same bytes; the single-process pass agrees to 1e-6.
    const sharded = await computeShardedGradStats(model, graph, dataset, { ...settings, batchShards: 3, layerShards: 2 });
    assert.deepEqual(Buffer.from(serializeGradStats(remote)), Buffer.from(serializeGradStats(sharded)));
    const single = await computeShardedGradStats(model, graph, json, settings);
    assertSameStats(remote, single);
    const weights = groupWeights(model, graph);
    for (const lambda of [0.1, 1]) {
      const ours = proscoreFromStats(remote, weights, { lambda });
      const reference = proscoreFromStats(single, weights, { lambda });
      ours.rows.forEach((row, index) => assertClose(row.score, reference.rows[index]?.score ?? Number.NaN, `${row.id} proscore (lambda ${lambda})`));
      assert.deepEqual(rankGroups(ours), rankGroups(reference));
    }
    fileModel.dispose();
    model.dispose();
  });

  it('a small CNN on a synthetic spec, 2 batch shards x 2 layer shards, in batch-statistics mode with biases', async () => {
    const built = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 7 });
    const modelId = await cluster.putModel(built);
    const model = await modelFromArtifact(modelToArtifact(built));
    const spec = 'synthetic:cifar?n=20&seed=3&classes=4';
    const dataset = resolveDataset(spec);
    const graph = buildChannelGraph(model);
    const settings = { datasetId: spec, batchSize: 6, modelHash: modelId, batchNormMode: 'batch' as const, includeBias: true };
    const plan = scoringShards(graph, dataset, { ...settings, batchShards: 2, layerShards: 2 });
    const rows = await Promise.all(
      plan.map(async (row) => {
        const parts: GradStats[] = [];
        for (const shard of row) {
          const result = await cluster.client.computeGradStats({
            modelArtifactId: modelId,
            dataset: { spec },
            batches: shard.batches,
            batchSize: 6,
            groupIds: [...shard.groups],
            criterion: { batchNormMode: 'BATCH_NORM_MODE_BATCH', includeBias: true },
          });
          parts.push(deserializeGradStats(await cluster.artifacts.getArtifact(result.statsArtifactId)));
        }
        return mergeGradStatsInOrder(parts);
      }),
    );
    const remote = mergeGradStatsInOrder(rows);
    const sharded = await computeShardedGradStats(model, graph, dataset, { ...settings, batchShards: 2, layerShards: 2 });
    assert.deepEqual(Buffer.from(serializeGradStats(remote)), Buffer.from(serializeGradStats(sharded)));
    built.dispose();
    model.dispose();
  });
});

describe('ComputeGradStats parity on a transformer', () => {
  it('a tiny ViT (heads, MLP neurons, embedding channels), 2 batch shards x 2 layer shards: the bytes of the in-process pass', async () => {
    const built = buildVit({ patchSize: 8, dModel: 8, depth: 1, numHeads: 2, mlpDim: 12, numClasses: 4, seed: 5, pooling: 'class-token' });
    const modelId = await cluster.putModel(built);
    const model = await modelFromArtifact(modelToArtifact(built));
    const spec = 'synthetic:cifar?n=20&seed=4&classes=4';
    const dataset = resolveDataset(spec);
    const graph = buildChannelGraph(model);
    assert.deepEqual([...new Set(graph.groups.filter((group) => group.prunable).map((group) => group.kind))], ['embedding', 'head', 'mlp']);
    const settings = { datasetId: spec, batchSize: 6, modelHash: modelId };
    const plan = scoringShards(graph, dataset, { ...settings, batchShards: 2, layerShards: 2 });
    const remote = await statsThroughWorker(modelId, { spec }, plan, 6);
    const sharded = await computeShardedGradStats(model, graph, dataset, { ...settings, batchShards: 2, layerShards: 2 });
    assert.deepEqual(Buffer.from(serializeGradStats(remote)), Buffer.from(serializeGradStats(sharded)));
    assertSameStats(remote, await computeShardedGradStats(model, graph, dataset, settings));
    built.dispose();
    model.dispose();
  });
});

describe('Evaluate and FineTune parity', () => {
  let modelId: string;
  let startBytes: Buffer;
  const spec = 'synthetic:cifar?n=26&seed=1&classes=4';
  let dataset: LabeledDataset;

  before(async () => {
    const built = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 11 });
    startBytes = modelToArtifact(built);
    modelId = await cluster.putModel(built);
    built.dispose();
    dataset = resolveDataset(spec);
  });

  it('Evaluate over 3 shards gives the exact in-process counts', async () => {
    const model = await modelFromArtifact(startBytes);
    const reference = await evaluateDataset(model, dataset, { batchSize: 5 });
    model.dispose();
    const shards = batchShards(6, 3);
    // Two at a time: the worker has two slots.
    const parts = [
      ...(await Promise.all(shards.slice(0, 2).map((batches) => cluster.client.evaluate({ modelArtifactId: modelId, dataset: { spec }, batches, batchSize: 5 })))),
      await cluster.client.evaluate({ modelArtifactId: modelId, dataset: { spec }, batches: shards[2] ?? { start: 0, end: 0 }, batchSize: 5 }),
    ];
    const merged = parts.reduce((total, part) => ({ correct: total.correct + part.correct, lossSum: total.lossSum + part.lossSum, count: total.count + part.count }), { correct: 0, lossSum: 0, count: 0 });
    assert.equal(merged.count, 26);
    assert.equal(merged.correct, reference.correct);
    assert.equal(merged.count, reference.count);
    assertClose(merged.lossSum, reference.lossSum, 'loss sum');
  });

  const sgd = { learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, labelSmoothing: 0.1 };

  it('FineTune on the whole dataset gives a model byte-identical to in-process fineTune', async () => {
    const result = await cluster.client.fineTune({
      startModelArtifactId: modelId,
      dataset: { spec },
      replica: { index: 0, count: 1 },
      batchSize: 8,
      steps: 5,
      firstStep: 2,
      optimizer: sgd,
      seed: 3,
      augment: true,
    });
    const model = await modelFromArtifact(startBytes);
    const settings: FineTuneSettings = { ...sgd, steps: 5, batchSize: 8, seed: 3, firstStep: 2, augment: true };
    const local = fineTune(model, dataset, settings);
    const expected = modelToArtifact(model);
    model.dispose();
    const tuned = await cluster.artifacts.getArtifact(result.modelArtifactId);
    assert.ok(tuned.equals(expected), 'the tuned model artifact differs from the in-process one');
    assert.equal(result.sampleCount, local.samples);
    assert.equal(result.steps, 5);
    assertClose(result.lossSum / result.sampleCount, local.meanLoss, 'mean loss');
  });

  it('FineTune with a cosine decay equals in-process fineTune with it, and differs from the constant rate', async () => {
    const decayed = { ...sgd, cosineDecay: { startStep: 2, steps: 4 } };
    const request = { startModelArtifactId: modelId, dataset: { spec }, replica: { index: 0, count: 1 }, batchSize: 8, steps: 4, firstStep: 2, seed: 3, augment: false };
    const result = await cluster.client.fineTune({ ...request, optimizer: decayed });
    const constant = await cluster.client.fineTune({ ...request, optimizer: sgd });
    const model = await modelFromArtifact(startBytes);
    fineTune(model, dataset, { ...decayed, steps: 4, batchSize: 8, seed: 3, firstStep: 2, augment: false });
    const expected = modelToArtifact(model);
    model.dispose();
    assert.ok((await cluster.artifacts.getArtifact(result.modelArtifactId)).equals(expected), 'the decayed model differs from the in-process one');
    assert.notEqual(result.modelArtifactId, constant.modelArtifactId, 'the decay changed nothing');
  });

  it('FineTune with AdamW equals in-process fineTune with the same AdamW settings, and differs from SGD', async () => {
    const adamw = { learningRate: 1e-3, weightDecay: 0.05, labelSmoothing: 0.1, cosineDecay: { startStep: 2, steps: 4 } };
    const betas = { beta1: 0.85, beta2: 0.99, epsilon: 1e-7 };
    const request = { startModelArtifactId: modelId, dataset: { spec }, replica: { index: 0, count: 1 }, batchSize: 8, steps: 4, firstStep: 2, seed: 3, augment: true };
    const result = await cluster.client.fineTune({ ...request, optimizer: { ...adamw, momentum: 0, nesterov: false, adamw: betas } });
    const withSgd = await cluster.client.fineTune({ ...request, optimizer: { ...sgd, cosineDecay: adamw.cosineDecay } });
    const model = await modelFromArtifact(startBytes);
    fineTune(model, dataset, { ...adamw, optimizer: { kind: 'adamw', ...betas }, steps: 4, batchSize: 8, seed: 3, firstStep: 2, augment: true });
    const expected = modelToArtifact(model);
    model.dispose();
    assert.ok((await cluster.artifacts.getArtifact(result.modelArtifactId)).equals(expected), 'the AdamW-tuned model differs from the in-process one');
    assert.notEqual(result.modelArtifactId, withSgd.modelArtifactId, 'AdamW changed nothing');
  });

  it('FineTune of replica 1 of 2 equals in-process fineTune on that replica\'s samples', async () => {
    const result = await cluster.client.fineTune({
      startModelArtifactId: modelId,
      dataset: { spec },
      replica: { index: 1, count: 2 },
      batchSize: 4,
      steps: 3,
      firstStep: 0,
      optimizer: { ...sgd, nesterov: false, momentum: 0 },
      seed: 9,
      augment: false,
    });
    // 26 samples in batches of 4: 7 batches, replica 1 gets batches [4, 7) = samples [16, 26).
    const part = shardDataset(dataset, batchShards(7, 2)[1] ?? { start: 0, end: 0 }, 4);
    assert.equal(part.size, 10);
    const model = await modelFromArtifact(startBytes);
    fineTune(model, part, { ...sgd, nesterov: false, momentum: 0, steps: 3, batchSize: 4, seed: 9, firstStep: 0, augment: false });
    const expected = modelToArtifact(model);
    model.dispose();
    assert.ok((await cluster.artifacts.getArtifact(result.modelArtifactId)).equals(expected));
    assert.equal(result.sampleCount, 4 + 4 + 2);
  });

  it('FineTune distilling from a teacher artifact equals in-process fineTune with that teacher', async () => {
    const teacherModel = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 12 });
    const teacherId = await cluster.putModel(teacherModel);
    const distillation = { weight: 0.5, temperature: 4 };
    const result = await cluster.client.fineTune({
      startModelArtifactId: modelId,
      dataset: { spec },
      replica: { index: 0, count: 1 },
      batchSize: 8,
      steps: 3,
      firstStep: 1,
      optimizer: sgd,
      seed: 3,
      augment: true,
      distillation: { teacherModelArtifactId: teacherId, ...distillation },
    });
    const model = await modelFromArtifact(startBytes);
    fineTune(model, dataset, { ...sgd, steps: 3, batchSize: 8, seed: 3, firstStep: 1, augment: true, distillation: { teacher: teacherModel, ...distillation } });
    const expected = modelToArtifact(model);
    model.dispose();
    teacherModel.dispose();
    assert.ok((await cluster.artifacts.getArtifact(result.modelArtifactId)).equals(expected), 'the distilled model differs from the in-process one');
  });

  it('ComputeBatchNormStatistics in 1 or 2 shards recalibrates to the bytes of the in-process pass', async () => {
    const recalibrate = async (ranges: { start: number; end: number }[]): Promise<Buffer> => {
      const parts = await Promise.all(
        ranges.map(async (batches) => {
          const result = await cluster.client.computeBatchNormStatistics({ modelArtifactId: modelId, dataset: { spec }, batches, batchSize: 5, seed: 2 });
          assert.equal(result.batches, batches.end - batches.start);
          return deserializeBatchNormStatistics(await cluster.artifacts.getArtifact(result.statsArtifactId));
        }),
      );
      const model = await modelFromArtifact(startBytes);
      applyBatchNormStatistics(model, concatBatchNormStatistics(parts));
      const bytes = modelToArtifact(model);
      model.dispose();
      return bytes;
    };
    const local = await modelFromArtifact(startBytes);
    // 26 samples in batches of 5: 6 per epoch, so batches 0..7 run into the second epoch.
    await recalibrateBatchNorm(local, dataset, { batches: 8, batchSize: 5, seed: 2 });
    const expected = modelToArtifact(local);
    local.dispose();
    assert.ok(!expected.equals(startBytes), 'recalibration moved the statistics');
    assert.ok((await recalibrate([{ start: 0, end: 8 }])).equals(expected), 'one shard');
    assert.ok((await recalibrate(batchShards(8, 2))).equals(expected), 'two shards');
  });

  it('ComputeTrajectoryScores equals the in-process trajectory', async () => {
    const result = await cluster.client.computeTrajectoryScores({
      modelArtifactId: modelId,
      dataset: { spec, draw: { size: 20, seed: 1 } },
      batchSize: 5,
      steps: 0,
      learningRate: 0.05,
      momentum: 0.9,
      weightDecay: 5e-4,
      criterion: { batchNormMode: 'BATCH_NORM_MODE_INFERENCE', includeBias: false },
      order: 'REMOVAL_ORDER_ASCENDING',
    });
    const model = await modelFromArtifact(startBytes);
    // steps 0: all 4 batches of the 20 drawn samples; momentum 0.9 is the default.
    const proscore = { reading: 'trajectory' as const, weightDecay: 5e-4, trajectory: { learningRate: 0.05 } };
    const table = await scoreTrajectory(model, buildChannelGraph(model), new DrawnSamples(dataset, 20, 1), { proscore, batchSize: 5, includeBias: false });
    model.dispose();
    const { scores } = await getScores(cluster.store, result.scoresArtifactId);
    assert.deepEqual([...scores.entries()], table.rows.map((row) => [row.id, row.score]));
    assert.equal(result.groupCount, table.rows.length);
  });

  it('leaves no tensors behind: the count does not grow call after call', async () => {
    const round = async (): Promise<number> => {
      await cluster.client.evaluate({ modelArtifactId: modelId, dataset: { spec }, batches: { start: 0, end: 2 }, batchSize: 5 });
      await cluster.client.computeGradStats({ modelArtifactId: modelId, dataset: { spec }, batches: { start: 0, end: 1 }, batchSize: 5, criterion: { batchNormMode: 'BATCH_NORM_MODE_BATCH' } });
      await cluster.client.fineTune({ startModelArtifactId: modelId, dataset: { spec }, batches: { start: 0, end: 2 }, batchSize: 5, steps: 2, optimizer: sgd, seed: 1 });
      await cluster.client.computeBatchNormStatistics({ modelArtifactId: modelId, dataset: { spec }, batches: { start: 0, end: 2 }, batchSize: 5, seed: 1 });
      return tf.memory().numTensors;
    };
    const first = await round();
    assert.equal(await round(), first);
    assert.equal(await round(), first);
    cluster.worker.service.releaseModels();
  });
});
