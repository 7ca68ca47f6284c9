import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ArtifactStore } from '@ippro/artifact-store';
import type { CompareInput } from '@ippro/compare';
import type { CriterionName } from '@ippro/workflow-core';
import type { GradStatsCall } from '@ippro/compute-core';
import type { ComputeCallOptions } from './compute-executor';
import { InProcessExecutor } from './in-process-executor';
import { getJson } from './json-artifacts';
import { runCompareInProcess } from './run-compare-in-process';
import { runPruneInProcess } from './run-prune-in-process';
import { EVALUATION_SPEC, SCORING_SPEC, TUNING_SPEC, putTinyModel, tinyInput } from './testing/tiny-config';

/** The in-process executor, counting the gradient-statistics calls (one per scoring shard). */
class CountingExecutor extends InProcessExecutor {
  gradStatsCalls = 0;

  override computeGradStats(call: GradStatsCall, options?: ComputeCallOptions) {
    this.gradStatsCalls += 1;
    return super.computeGradStats(call, options);
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
        criterion: row.criterion,
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

  it('refuses bad input before any work, naming the field', async () => {
    const executor = new CountingExecutor({ store });
    const modelId = await putTinyModel(store);
    await assert.rejects(runCompareInProcess(compareInput(modelId, { targets: [0.3, 1.2] }), { store, executor }), /targets: 1.2 is not a fraction/);
    await assert.rejects(runCompareInProcess({ ...compareInput(modelId), scoring: undefined }, { store, executor }), /criteria proscore, taylor need scoring data/);
    assert.equal(executor.gradStatsCalls, 0);
  });
});
