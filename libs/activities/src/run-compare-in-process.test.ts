import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ArtifactStore } from '@ippro/artifact-store';
import { parseCriterionVariant, summariseComparison } from '@ippro/compare';
import type { CompareInput } from '@ippro/compare';
import type { CriterionName } from '@ippro/workflow-core';
import type { GradStatsCall, ScoreTrajectoryCall } from '@ippro/compute-core';
import type { ComputeCallOptions } from './compute-executor';
import { InProcessExecutor } from './in-process-executor';
import { getJson } from '@ippro/compute-core';
import { runCompareInProcess } from './run-compare-in-process';
import { runPruneInProcess } from './run-prune-in-process';
import { EVALUATION_SPEC, SCORING_SPEC, TUNING_SPEC, putTinyModel, tinyInput } from './testing/tiny-config';

/** The in-process executor, counting the gradient-statistics calls (one per scoring shard) and the trajectories. */
class CountingExecutor extends InProcessExecutor {
  gradStatsCalls = 0;
  trajectoryCalls = 0;

  override computeGradStats(call: GradStatsCall, options?: ComputeCallOptions) {
    this.gradStatsCalls += 1;
    return super.computeGradStats(call, options);
  }

  override computeTrajectoryScores(call: ScoreTrajectoryCall, options?: ComputeCallOptions) {
    this.trajectoryCalls += 1;
    return super.computeTrajectoryScores(call, options);
  }
}

const ALL_CRITERIA: CriterionName[] = ['proscore', 'l2', 'l1', 'taylor', 'bn', 'random'];

function compareInput(modelArtifactId: string, overrides: Partial<CompareInput> = {}): CompareInput {
  return {
    modelArtifactId,
    criteria: ALL_CRITERIA,
    targets: [0.3, 0.5],
    metric: 'flops',
    lambda: 1,
    scoring: { dataset: { spec: SCORING_SPEC }, batchSize: 8 },
    fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, learningRate: 0.05 },
    evaluation: { dataset: { spec: EVALUATION_SPEC }, batchSize: 8 },
    randomSeeds: 2,
    seed: 7,
    shards: { batchShards: 2, layerShards: 2, evaluationShards: 2, maxParallel: 3 },
    ...overrides,
  };
}

let dir: string;
let store: ArtifactStore;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-compare-'));
  store = await ArtifactStore.open({ root: join(dir, 'store') });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runCompareInProcess', () => {
  it('runs one scoring pass for every gradient criterion, and every criterion at every target', async () => {
    const modelId = await putTinyModel(store);
    const executor = new CountingExecutor({ store });
    const result = await runCompareInProcess(compareInput(modelId), { store, executor });

    // 2 batch shards x 2 layer shards = 4 gradient-statistics calls: one scoring pass, read by proscore and taylor.
    assert.equal(executor.gradStatsCalls, 4, 'statistics computed once, not once per criterion');
    assert.equal(result.scoring?.passes, 1);
    assert.deepEqual(result.scoring?.statsArtifactIds.map((ids) => ids.length), [2, 2]);
    assert.deepEqual(
      result.scores.map((score) => [score.criterion, score.seed]),
      [['proscore', undefined], ['l2', undefined], ['l1', undefined], ['taylor', undefined], ['bn', undefined], ['random', 8], ['random', 9]],
    );
    assert.equal(result.rows.length, 7 * 2);
    for (const row of result.rows) {
      assert.ok(row.removedGroups > 0, `${row.criterion} at ${row.target} removed groups`);
      assert.ok(row.pruned.flops <= result.baseline.flops * (1 - row.target) * 1.0001, `${row.criterion} met ${row.target}`);
      assert.equal(row.pruned.evaluated, 32);
      assert.ok(row.tuned !== undefined && row.tuned.modelArtifactId !== row.pruned.modelArtifactId, 'fine-tuned');
    }
    const plans = await Promise.all(result.rows.filter((row) => row.target === 0.5).map((row) => getJson<{ groupIds: string[] }>(store, row.planArtifactId)));
    assert.ok(new Set(plans.map((plan) => plan.groupIds.join(','))).size > 3, 'criteria choose different groups');

    const withoutGradients = new CountingExecutor({ store });
    const magnitudeOnly = await runCompareInProcess(compareInput(modelId, { criteria: ['l2', 'bn'] }), { store, executor: withoutGradients });
    assert.equal(withoutGradients.gradStatsCalls, 0, 'magnitude and batch-norm scale need no scoring pass');
    assert.equal(magnitudeOnly.scoring, undefined);
    assert.deepEqual(magnitudeOnly.rows.map((row) => row.pruned), result.rows.filter((row) => row.criterion === 'l2' || row.criterion === 'bn').map((row) => row.pruned));
  });

  it('gives each criterion the model, top-1 and fine-tuned model of a one-round prune run with that criterion', async () => {
    const modelId = await putTinyModel(store, 2);
    const result = await runCompareInProcess(compareInput(modelId, { criteria: ['proscore', 'taylor', 'random'], targets: [0.4], randomSeeds: 1 }), { store });
    for (const row of result.rows) {
      const pruneInput = tinyInput(modelId, {
        criterion: parseCriterionVariant(row.criterion).criterion,
        plan: { target: { metric: 'flops', fraction: 0.4 }, rounds: 1 },
        fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, learningRate: 0.05 },
        shards: { batchShards: 2, layerShards: 2, evaluationShards: 2, maxParallel: 3 },
        seed: 7,
      });
      // prune seeds the random criterion with seed + round, compare's first random run with seed + 1.
      const pruned = await runPruneInProcess(pruneInput, { store });
      const round = pruned.history[0];
      assert.equal(row.tuned?.modelArtifactId, round?.modelArtifactId, `${row.criterion}: the same fine-tuned model`);
      assert.equal(row.tuned?.top1, round?.top1);
      assert.equal(row.pruned.params, round?.params);
    }
  });

  it('with seeds, runs every criterion once per seed: a scoring draw per seed, weight-only pruned models made once, mean and deviation over the seeds', async () => {
    const modelId = await putTinyModel(store, 3);
    const executor = new CountingExecutor({ store });
    const input = compareInput(modelId, { criteria: ['proscore', 'l2', 'random'], targets: [0.4], randomSeeds: undefined, seeds: 3, scoringSamples: 24, test: { dataset: { spec: TUNING_SPEC }, batchSize: 8 } });
    const result = await runCompareInProcess(input, { store, executor });
    assert.equal(executor.gradStatsCalls, 3 * 4, 'one pass of 2 x 2 shards per drawn scoring set');
    assert.equal(result.scoring?.passes, 3);
    assert.deepEqual(result.rows.map((row) => `${row.criterion}/${row.run}/${row.seed ?? '-'}`), ['proscore/0/-', 'proscore/1/-', 'proscore/2/-', 'l2/0/-', 'l2/1/-', 'l2/2/-', 'random/0/8', 'random/1/9', 'random/2/10']);
    const l2 = result.rows.filter((row) => row.criterion === 'l2');
    assert.equal(new Set(l2.map((row) => row.pruned.modelArtifactId)).size, 1, 'l2 prunes the same model in every run');
    assert.equal(new Set(l2.map((row) => row.tuned?.modelArtifactId)).size, 3, 'each run fine-tunes in its own order');
    assert.equal(new Set(result.rows.filter((row) => row.criterion === 'proscore').map((row) => row.scoresArtifactId)).size, 3, 'each draw scores its own samples');
    assert.equal(result.baseline.test?.evaluated, 32);
    assert.ok(result.rows.every((row) => row.pruned.test?.evaluated === 32 && row.tuned?.test !== undefined));
    const summary = summariseComparison(result);
    assert.deepEqual(summary.map((row) => row.runs), [3, 3, 3]);
    assert.ok(summary.every((row) => row.top1Tuned?.std !== undefined && row.test?.top1Tuned?.std !== undefined), 'a deviation over the seeds for every criterion');
  });

  it('a run with recalibration, distillation and a cosine rate gives each row the model of a one-round prune with that seed', async () => {
    const modelId = await putTinyModel(store, 4);
    const recalibration = { dataset: { spec: TUNING_SPEC }, batchSize: 8, batches: 3 };
    const fineTune = { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 3, learningRate: 0.05, learningRateSchedule: 'cosine' as const, distillation: { weight: 0.5, temperature: 2 } };
    const input = compareInput(modelId, { criteria: ['proscore', 'random'], targets: [0.4], randomSeeds: undefined, seeds: 2, scoringSamples: 24, recalibration, fineTune });
    const result = await runCompareInProcess(input, { store });
    assert.equal(result.recalibrationBatches, 3);
    for (const row of result.rows) {
      assert.ok(row.recalibrated !== undefined && row.recalibrated.modelArtifactId !== row.pruned.modelArtifactId, 'recalibrated');
      const seed = 7 + (row.run ?? Number.NaN);
      const pruned = await runPruneInProcess(
        tinyInput(modelId, {
          criterion: parseCriterionVariant(row.criterion).criterion,
          scoring: { dataset: { spec: SCORING_SPEC, draw: { size: 24, seed } }, batchSize: 8 },
          recalibration,
          plan: { target: { metric: 'flops', fraction: 0.4 }, rounds: 1 },
          fineTune,
          shards: { batchShards: 2, layerShards: 2, evaluationShards: 2, maxParallel: 3 },
          seed,
        }),
        { store },
      );
      assert.equal(row.tuned?.modelArtifactId, pruned.history[0]?.modelArtifactId, `${row.criterion} run ${row.run}: the same model as prune --seed ${seed}`);
    }
  });

  it('reads PROscore variants from one scoring pass, the trajectory in one call of its own, each as a prune with that reading', async () => {
    const modelId = await putTinyModel(store, 5);
    const executor = new CountingExecutor({ store });
    const criteria = ['proscore', 'proscore:per-batch', 'proscore:descending', 'proscore:wd', 'proscore:trajectory', 'taylor-batch', 'fisher', 'group-norm', 'lamp', 'fpgm'];
    const shards = { batchShards: 1, layerShards: 1, evaluationShards: 2, maxParallel: 3 };
    const result = await runCompareInProcess(compareInput(modelId, { criteria, targets: [0.4], randomSeeds: undefined, fineTune: undefined, shards }), { store, executor });
    assert.equal(executor.gradStatsCalls, 1, 'one scoring pass for every statistics reading and criterion');
    assert.equal(executor.trajectoryCalls, 1);
    assert.equal(new Set(result.scores.map((score) => score.scoresArtifactId)).size, criteria.length, 'every variant scores differently');
    const readings = { 'proscore:per-batch': { reading: 'per-batch' as const }, 'proscore:wd': { weightDecay: 5e-4 }, 'proscore:trajectory': { reading: 'trajectory' as const } };
    for (const [label, proscore] of Object.entries(readings)) {
      const row = result.rows.find((candidate) => candidate.criterion === label);
      const pruned = await runPruneInProcess(
        tinyInput(modelId, { proscore, plan: { target: { metric: 'flops', fraction: 0.4 }, rounds: 1 }, fineTune: undefined, shards, seed: 7 }),
        { store },
      );
      assert.equal(row?.pruned.modelArtifactId, pruned.history[0]?.modelArtifactId, `${label}: the model of prune with that reading`);
    }
  });

  it('refuses bad input before any work, naming the field', async () => {
    const executor = new CountingExecutor({ store });
    const modelId = await putTinyModel(store);
    await assert.rejects(runCompareInProcess(compareInput(modelId, { seeds: 2 }), { store, executor }), /give seeds .* or randomSeeds .*, not both/);
    await assert.rejects(runCompareInProcess(compareInput(modelId, { criteria: ['proscore:trajectory'] }), { store, executor }), /criteria 'proscore:trajectory': proscore.reading 'trajectory' .* cannot be sharded: shards.batchShards must be 1, got 2/);
    await assert.rejects(runCompareInProcess(compareInput(modelId, { criteria: ['l2:descending'] }), { store, executor }), /only proscore takes modifiers/);
    await assert.rejects(runCompareInProcess(compareInput(modelId, { targets: [0.3, 1.2] }), { store, executor }), /targets: 1.2 is not a fraction/);
    await assert.rejects(runCompareInProcess({ ...compareInput(modelId), scoring: undefined }, { store, executor }), /criteria proscore, taylor need scoring data/);
    assert.equal(executor.gradStatsCalls, 0);
  });
});
