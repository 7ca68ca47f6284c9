import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ArtifactStore, storeBytes } from '@ippro/artifact-store';
import { DrawnSamples, resolveDataset } from '@ippro/data';
import { buildChannelGraph } from '@ippro/graph';
import { deserializeGradStats, serializeGradStats } from '@ippro/importance';
import { datasetToArtifact, modelToArtifact } from '@ippro/model-artifact';
import { ADAMW_DEFAULTS, buildSmallCnn, evaluateDataset } from '@ippro/models';
import {
  batchNormStatistics as batchNormStatisticsInProcess,
  computeShard,
  deserializeBatchNormStatistics,
  fineTune as fineTuneInProcess,
  recalibrationBatches,
  scoreTrajectory as scoreTrajectoryInProcess,
} from '@ippro/pruning';
import type { BatchNormStatisticsCall, CallContext, ComputeProgress, EvaluateCall, FineTuneCall, GradStatsCall, ScoreTrajectoryCall } from './calls';
import { shardDataset } from './checks';
import { ComputeInputError } from './compute-input-error';
import { DatasetResolver } from './dataset-resolver';
import { getModel, putModel } from './model-store';
import { computeBatchNormStatistics, computeGradStats, computeTrajectoryScores, createComputeDeps, evaluate, fineTune } from './operations';
import type { ComputeDeps } from './operations';
import { getScores } from './scores-document';

const SPEC = 'synthetic:cifar?n=20&seed=3&classes=4';
const SGD = { learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, labelSmoothing: 0.1 };
const ADAMW = { learningRate: 1e-3, momentum: 0, nesterov: false, weightDecay: 0.05, labelSmoothing: 0.1, adamw: ADAMW_DEFAULTS };

let dir: string;
let store: ArtifactStore;
let deps: ComputeDeps;
let modelId: string;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-compute-core-'));
  store = await ArtifactStore.open({ root: join(dir, 'store'), fsync: false });
  deps = createComputeDeps(store);
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 5 });
  modelId = await putModel(store, model);
  model.dispose();
});

after(() => rm(dir, { recursive: true, force: true }));

/** A context that records its checkpoints and progress, and stops the call at checkpoint `stopAt` (1-based). */
function recorder(stopAt = Infinity): CallContext & { checkpoints: number; reports: ComputeProgress[] } {
  const context = {
    checkpoints: 0,
    reports: [] as ComputeProgress[],
    checkpoint: async () => {
      context.checkpoints += 1;
      if (context.checkpoints >= stopAt) throw new Error('stopped by the host');
    },
    progress: (progress: ComputeProgress) => void context.reports.push(progress),
  };
  return context;
}

const scoring = (overrides: Partial<GradStatsCall> = {}): GradStatsCall => ({
  jobId: 'test/score',
  modelArtifactId: modelId,
  dataset: { spec: SPEC },
  batches: { start: 1, end: 4 },
  batchSize: 6,
  groupIds: [],
  batchNormMode: 'batch',
  includeBias: true,
  ...overrides,
});

const evaluation = (overrides: Partial<EvaluateCall> = {}): EvaluateCall => ({
  jobId: 'test/eval',
  modelArtifactId: modelId,
  dataset: { spec: SPEC },
  batches: { start: 0, end: 4 },
  batchSize: 6,
  ...overrides,
});

const tuning = (overrides: Partial<FineTuneCall> = {}): FineTuneCall =>
  ({
    jobId: 'test/tune',
    startModelArtifactId: modelId,
    dataset: { spec: SPEC },
    replica: { index: 1, count: 2 },
    batchSize: 4,
    steps: 3,
    firstStep: 2,
    optimizer: SGD,
    seed: 9,
    augment: true,
    ...overrides,
  }) as FineTuneCall;

const statistics = (overrides: Partial<BatchNormStatisticsCall> = {}): BatchNormStatisticsCall => ({
  jobId: 'test/bn',
  modelArtifactId: modelId,
  dataset: { spec: SPEC },
  batches: { start: 3, end: 7 },
  batchSize: 6,
  seed: 4,
  ...overrides,
});

const trajectory = (overrides: Partial<ScoreTrajectoryCall> = {}): ScoreTrajectoryCall => ({
  jobId: 'test/trajectory',
  modelArtifactId: modelId,
  dataset: { spec: SPEC },
  batchSize: 6,
  steps: 3,
  learningRate: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  batchNormMode: 'inference',
  includeBias: false,
  order: 'descending',
  ...overrides,
});

describe('the operations compute what the library computes', () => {
  it('computeGradStats: the bytes of @ippro/pruning computeShard, one checkpoint per batch and one before storing', async () => {
    const context = recorder();
    const result = await computeGradStats(scoring(), deps, context);
    const model = await getModel(store, modelId);
    const graph = buildChannelGraph(model);
    const groups = graph.groups.filter((group) => group.prunable).map((group) => group.id);
    const reference = await computeShard(model, graph, resolveDataset(SPEC), { batches: { start: 1, end: 4 }, groups }, { datasetId: SPEC, batchSize: 6, batchNormMode: 'batch', includeBias: true, modelHash: modelId });
    model.dispose();
    const stored = await store.get(result.statsArtifactId);
    assert.ok(stored.equals(Buffer.from(serializeGradStats(reference))));
    assert.deepEqual(result, { statsArtifactId: result.statsArtifactId, count: 14, lossSum: reference.sumLoss, groupCount: groups.length, statsBytes: stored.length });
    assert.deepEqual(deserializeGradStats(stored).header.sampleRange, [6, 20]);
    assert.equal(context.checkpoints, 4);
    assert.deepEqual(context.reports.map((report) => [report.done, report.total, report.samples]), [[1, 3, 6], [2, 3, 12], [3, 3, 14]]);
  });

  it('evaluate: @ippro/models evaluateDataset over the range, progress with the mean loss so far', async () => {
    const context = recorder();
    const result = await evaluate(evaluation(), deps, context);
    const model = await getModel(store, modelId);
    const reference = await evaluateDataset(model, resolveDataset(SPEC), { batchSize: 6 });
    model.dispose();
    assert.deepEqual(result, reference);
    assert.equal(context.checkpoints, 4);
    const last = context.reports[context.reports.length - 1];
    assert.deepEqual(last, { done: 4, total: 4, samples: 20, meanLoss: reference.lossSum / 20 });
  });

  it("fineTune: @ippro/pruning's fineTune on the replica's share, byte for byte", async () => {
    const context = recorder();
    const result = await fineTune(tuning(), deps, context);
    const model = await getModel(store, modelId);
    // 20 samples in batches of 4: 5 batches; replica 1 of 2 gets batches [3, 5) = samples [12, 20).
    const local = fineTuneInProcess(model, shardDataset(resolveDataset(SPEC), { start: 3, end: 5 }, 4), { ...SGD, steps: 3, batchSize: 4, seed: 9, firstStep: 2, augment: true });
    const expected = modelToArtifact(model);
    model.dispose();
    assert.ok((await store.get(result.modelArtifactId)).equals(expected));
    assert.deepEqual(result, { modelArtifactId: result.modelArtifactId, sampleCount: local.samples, steps: 3, lossSum: local.lossSum });
    assert.equal(context.checkpoints, 4);
    assert.deepEqual(context.reports.map((report) => report.done), [1, 2, 3]);
  });

  it('fineTune with a teacher: the library fineTune distilling from that model, byte for byte, and not the plain fine-tune', async () => {
    const teacherModel = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 8 });
    const teacherId = await putModel(store, teacherModel);
    const distillation = { teacherModelArtifactId: teacherId, weight: 0.6, temperature: 3 };
    const result = await fineTune(tuning({ distillation }), deps, recorder());
    const model = await getModel(store, modelId);
    const data = shardDataset(resolveDataset(SPEC), { start: 3, end: 5 }, 4);
    fineTuneInProcess(model, data, { ...SGD, steps: 3, batchSize: 4, seed: 9, firstStep: 2, augment: true, distillation: { teacher: teacherModel, weight: 0.6, temperature: 3 } });
    assert.ok((await store.get(result.modelArtifactId)).equals(modelToArtifact(model)));
    assert.notEqual(result.modelArtifactId, (await fineTune(tuning(), deps, recorder())).modelArtifactId, 'distillation changed the model');
    model.dispose();
    teacherModel.dispose();
  });

  it('fineTune of a logits model with a logits teacher: the library fineTune distilling the logits, byte for byte', async () => {
    const student = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 5, output: 'logits' });
    const teacher = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 8, output: 'logits' });
    const studentId = await putModel(store, student);
    const teacherId = await putModel(store, teacher);
    const result = await fineTune(tuning({ startModelArtifactId: studentId, output: 'logits', distillation: { teacherModelArtifactId: teacherId, weight: 0.6, temperature: 3 } }), deps, recorder());
    const data = shardDataset(resolveDataset(SPEC), { start: 3, end: 5 }, 4);
    fineTuneInProcess(student, data, { ...SGD, output: 'logits', steps: 3, batchSize: 4, seed: 9, firstStep: 2, augment: true, distillation: { teacher, weight: 0.6, temperature: 3 } });
    assert.ok((await store.get(result.modelArtifactId)).equals(modelToArtifact(student)));
    student.dispose();
    teacher.dispose();
  });

  it("computeBatchNormStatistics: @ippro/pruning's batchNormStatistics over the seeded batches, past the end of an epoch", async () => {
    const context = recorder();
    const result = await computeBatchNormStatistics(statistics(), deps, context);
    const model = await getModel(store, modelId);
    const inputs = Array.from(recalibrationBatches(resolveDataset(SPEC), { start: 3, end: 7 }, 6, 4), (batch) => batch.x.clone());
    const reference = await batchNormStatisticsInProcess(model, inputs);
    tf.dispose(inputs);
    model.dispose();
    assert.deepEqual(deserializeBatchNormStatistics(await store.get(result.statsArtifactId)), reference);
    // 20 samples in batches of 6 (6, 6, 6, 2): batches 3..6 of the stream are the last of epoch 0 and the first three of epoch 1.
    assert.deepEqual(reference.batches.map((batch) => batch.size), [2, 6, 6, 6]);
    assert.deepEqual({ batches: result.batches, samples: result.samples }, { batches: 4, samples: 20 });
    assert.equal(context.checkpoints, 5);
    assert.deepEqual(context.reports.map((report) => report.done), [1, 2, 3, 4]);
  });

  it("computeTrajectoryScores: @ippro/pruning's scoreTrajectory, stored as scores; the model is left as it was", async () => {
    const context = recorder();
    const result = await computeTrajectoryScores(trajectory(), deps, context);
    const model = await getModel(store, modelId);
    const proscore = { reading: 'trajectory' as const, order: 'descending' as const, weightDecay: 5e-4, trajectory: { steps: 3, learningRate: 0.1, momentum: 0.9 } };
    const reference = await scoreTrajectoryInProcess(model, buildChannelGraph(model), resolveDataset(SPEC), { proscore, batchSize: 6, includeBias: false, batchNormMode: 'inference' });
    model.dispose();
    const { method, scores } = await getScores(store, result.scoresArtifactId);
    assert.equal(method, 'proscore');
    assert.deepEqual([...scores.entries()], reference.rows.map((row) => [row.id, row.score]));
    assert.equal(result.groupCount, reference.rows.length);
    assert.deepEqual(context.reports.map((report) => report.done), [1, 2, 3]);
    const everyBatch = await computeTrajectoryScores(trajectory({ steps: 0 }), deps, recorder());
    assert.notEqual(everyBatch.scoresArtifactId, result.scoresArtifactId, 'steps 0 takes all 4 batches');
  });

  it('a drawn dataset is the draw of the whole one', async () => {
    const drawn = await evaluate(evaluation({ dataset: { spec: SPEC, draw: { size: 12, seed: 2 } }, batches: { start: 0, end: 2 } }), deps, recorder());
    const model = await getModel(store, modelId);
    const reference = await evaluateDataset(model, new DrawnSamples(resolveDataset(SPEC), 12, 2), { batchSize: 6 });
    model.dispose();
    assert.deepEqual(drawn, reference);
    const resolver = new DatasetResolver(store, { cifar10Dir: join(dir, 'no-cifar10') });
    assert.deepEqual(await resolver.shape({ spec: 'cifar10:train', draw: { size: 2560, seed: 1 } }), { size: 2560, sampleShape: [32, 32, 3] });
    assert.equal((await deps.datasets.resolve({ spec: SPEC, draw: { size: 12, seed: 2 } })).datasetId, `${SPEC}{12 drawn by seed 2}`);
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await evaluate(evaluation(), deps, recorder());
    await computeGradStats(scoring(), deps, recorder());
    await fineTune(tuning(), deps, recorder());
    await computeBatchNormStatistics(statistics(), deps, recorder());
    await computeTrajectoryScores(trajectory(), deps, recorder());
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('a stopped call', () => {
  it('ends at the checkpoint that throws and stores nothing, even when stopped after its last batch or step', async () => {
    const before = store.keys().length;
    await assert.rejects(computeGradStats(scoring({ batches: { start: 0, end: 2 } }), deps, recorder(3)), /stopped by the host/);
    await assert.rejects(fineTune(tuning({ firstStep: 7 }), deps, recorder(4)), /stopped by the host/);
    await assert.rejects(evaluate(evaluation(), deps, recorder(1)), /stopped by the host/);
    assert.equal(store.keys().length, before);
  });
});

/** A fine-tune of a sigmoid model distilling from itself. */
async function sigmoidDistillation(): Promise<unknown> {
  const model = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 5, output: 'sigmoid' });
  const id = await putModel(store, model);
  model.dispose();
  return fineTune(tuning({ startModelArtifactId: id, distillation: { teacherModelArtifactId: id, weight: 0.5, temperature: 2 } }), deps, recorder());
}

describe('bad input: a ComputeInputError naming the field', () => {
  const refusals: [string, () => Promise<unknown>, RegExp][] = [
    ['a model id that is not a sha256', () => evaluate(evaluation({ modelArtifactId: '../etc/passwd' }), deps, recorder()), /^model_artifact_id "..\/etc\/passwd" is not an artifact id/],
    ['a batch range outside the dataset', () => evaluate(evaluation({ batches: { start: 2, end: 9 } }), deps, recorder()), /^batches \[2, 9\) is outside dataset synthetic:cifar.* which has 4 batches of 6 \(20 samples\)/],
    ['an empty batch range', () => computeGradStats(scoring({ batches: { start: 3, end: 3 } }), deps, recorder()), /^batches \[3, 3\) is empty or inverted/],
    ['a negative batch index', () => evaluate(evaluation({ batches: { start: -1, end: 2 } }), deps, recorder()), /^batches \[-1, 2\) is not a range of batch indices/],
    ['a batch size of 0', () => evaluate(evaluation({ batchSize: 0 }), deps, recorder()), /^batch_size must be a positive integer, got 0/],
    ['a json: spec', () => evaluate(evaluation({ dataset: { spec: 'json:/etc/passwd' } }), deps, recorder()), /^dataset.spec 'json:\/etc\/passwd': json: specs name files/],
    ['a spec with a sample range', () => evaluate(evaluation({ dataset: { spec: `${SPEC}[0:10]` } }), deps, recorder()), /carries a sample range/],
    ['an unknown scheme', () => evaluate(evaluation({ dataset: { spec: 'mnist:train' } }), deps, recorder()), /^dataset.spec: dataset spec 'mnist:train': unknown scheme 'mnist'/],
    ['no spec and no artifact', () => evaluate(evaluation({ dataset: { spec: '' } }), deps, recorder()), /^dataset.spec is empty and dataset.artifact_id is not set/],
    ['an unknown group', () => computeGradStats(scoring({ groupIds: ['conv9:0'] }), deps, recorder()), /^group_ids\[0\] "conv9:0" is not a group of model/],
    ['a frozen group', () => computeGradStats(scoring({ groupIds: ['classifier:0'] }), deps, recorder()), /^group_ids\[0\] 'classifier:0' is not prunable/],
    ['a replica beyond the count', () => fineTune(tuning({ replica: { index: 2, count: 2 } }), deps, recorder()), /^replica 2 of 2: index must be below a positive count/],
    ['more replicas than batches', () => fineTune(tuning({ replica: { index: 5, count: 6 } }), deps, recorder()), /^replica 5 of 6: dataset .* has only 5 batches of 4; use at most 5 replicas/],
    ['no steps', () => fineTune(tuning({ steps: 0 }), deps, recorder()), /^steps must be at least 1, got 0/],
    ['a momentum of 1', () => fineTune(tuning({ optimizer: { ...SGD, momentum: 1 } }), deps, recorder()), /^optimizer.momentum must be in \[0, 1\), got 1/],
    ['an AdamW beta1 of 1', () => fineTune(tuning({ optimizer: { ...ADAMW, adamw: { ...ADAMW_DEFAULTS, beta1: 1 } } }), deps, recorder()), /^optimizer.adamw.beta1 must be in \[0, 1\), got 1/],
    ['SGD momentum beside AdamW', () => fineTune(tuning({ optimizer: { ...ADAMW, momentum: 0.9 } }), deps, recorder()), /^optimizer.momentum and optimizer.nesterov are SGD's: with optimizer.adamw they must be 0 and false, got 0.9 and false/],
    ['a model that does not fit the data', () => evaluate(evaluation({ dataset: { spec: 'synthetic:cifar?n=20&seed=3&classes=10' } }), deps, recorder()), /^model [0-9a-f]{64} does not fit dataset .* has 10 classes/],
    ['a draw larger than the data', () => evaluate(evaluation({ dataset: { spec: SPEC, draw: { size: 21, seed: 0 } } }), deps, recorder()), /^dataset.draw.size must be 1 to 20 \(the samples of dataset\), got 21/],
    ['a distillation weight of 0', () => fineTune(tuning({ distillation: { teacherModelArtifactId: modelId, weight: 0, temperature: 2 } }), deps, recorder()), /^distillation.weight must be in \(0, 1\], got 0/],
    ['a teacher id that is not a sha256', () => fineTune(tuning({ distillation: { teacherModelArtifactId: 'teacher', weight: 0.5, temperature: 2 } }), deps, recorder()), /^distillation.teacher_model_artifact_id "teacher" is not an artifact id/],
    ['distillation of a sigmoid model', () => sigmoidDistillation(), /^distillation needs a softmax output \(probabilities or logits\)/],
    ['an empty recalibration range', () => computeBatchNormStatistics(statistics({ batches: { start: 2, end: 2 } }), deps, recorder()), /^batches \[2, 2\) is empty or inverted/],
    ['more trajectory steps than batches', () => computeTrajectoryScores(trajectory({ steps: 5 }), deps, recorder()), /^steps 5: the trajectory takes one scoring batch per step, and the data has only 4 batches of 6/],
    ['weight decay with biases in F', () => computeTrajectoryScores(trajectory({ includeBias: true }), deps, recorder()), /^weight_decay: the training objective decays kernels only/],
  ];
  for (const [what, call, message] of refusals) {
    it(what, async () => {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof ComputeInputError, `${what}: ${String(error)}`);
        assert.equal(error.type, 'InvalidArgument');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('bytes that are not a model name the artifact', async () => {
    const id = await storeBytes(store, Buffer.from('not a model'));
    await assert.rejects(evaluate(evaluation({ modelArtifactId: id }), deps, recorder()), (error: unknown) => {
      assert.ok(error instanceof ComputeInputError);
      assert.equal(error.artifactId, id);
      assert.match(error.message, new RegExp(`^model_artifact_id ${id}: `));
      return true;
    });
  });
});

describe('deps', () => {
  it('a pool keeps a model between calls that leave it unchanged; without one each call reads the artifact', async () => {
    const model = buildSmallCnn({ widths: [4, 8], numClasses: 4, seed: 6 });
    const id = await putModel(store, model);
    model.dispose();
    const pooled = createComputeDeps(store, { idleModels: 1 });
    const first = await evaluate(evaluation({ modelArtifactId: id }), pooled, recorder());
    assert.equal(await store.delete(id), true);
    assert.deepEqual(await evaluate(evaluation({ modelArtifactId: id }), pooled, recorder()), first, 'evaluated on the kept model');
    await assert.rejects(evaluate(evaluation({ modelArtifactId: id }), deps, recorder()), /not found/);
    pooled.models.clear();
  });

  it('a batch size above the host limit is refused', async () => {
    const limited = createComputeDeps(store, { maxBatchSize: 4 });
    await assert.rejects(evaluate(evaluation(), limited, recorder()), /^ComputeInputError: batch_size 6 is above this worker's limit of 4/);
  });

  it('datasets: CIFAR-10 shapes without files, dataset artifacts named by spec or id, kept open', async () => {
    const resolver = new DatasetResolver(store, { cifar10Dir: join(dir, 'no-cifar10') });
    assert.deepEqual(await resolver.shape({ spec: 'cifar10:test' }), { size: 10_000, sampleShape: [32, 32, 3] });
    const bytes = datasetToArtifact(resolveDataset(SPEC));
    const id = await storeBytes(store, bytes);
    const named = await resolver.resolve({ spec: 'my-data', artifactId: id });
    assert.equal(named.datasetId, 'my-data');
    assert.equal((await resolver.resolve({ spec: '', artifactId: id })).datasetId, `artifact:${id}`);
    assert.equal((await resolver.resolve({ spec: 'my-data', artifactId: id })).dataset, named.dataset, 'the same open dataset');
    assert.equal((await resolver.resolve({ spec: 'synthetic:cifar?classes=4&n=20&seed=3' })).datasetId, SPEC, 'the canonical spec');
  });
});
