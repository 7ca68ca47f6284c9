import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ArtifactStore } from '@ippro/artifact-store';
import { resolveDataset } from '@ippro/data';
import { modelToArtifact } from '@ippro/model-artifact';
import { getJson, getModel } from '@ippro/compute-core';
import { pruneLocally } from '@ippro/pruning/testing';
import type { LocalPruneRequest } from '@ippro/pruning/testing';
import type { PruneWorkflowInput } from '@ippro/workflow-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { runPruneInProcess } from './run-prune-in-process';
import { EVALUATION_SPEC, SCORING_SPEC, TUNING_SPEC, putTinyModel, tinyInput } from './testing/tiny-config';

let dir: string;
let store: ArtifactStore;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-activities-'));
  store = await ArtifactStore.open({ root: join(dir, 'store') });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The oracle's request for the tiny run of `input`: the same data, batch sizes, seed and plan, fine-tuning 2 steps a round. */
function oracleRequest(model: LayersModel, input: PruneWorkflowInput, shards: { batchShards: number; layerShards?: number }): LocalPruneRequest {
  return {
    model,
    criterion: 'proscore',
    lambda: 1,
    scoringData: resolveDataset(SCORING_SPEC),
    scoring: { datasetId: SCORING_SPEC, batchSize: 8, ...shards },
    fineTuneData: resolveDataset(TUNING_SPEC),
    fineTune: { steps: 2, batchSize: 4, learningRate: 0.05 },
    evaluationData: resolveDataset(EVALUATION_SPEC),
    evaluationBatchSize: 8,
    seed: 7,
    target: input.plan.target,
    rounds: input.plan.rounds,
  };
}

describe('runPruneInProcess', () => {
  it('equals @ippro/pruning pruneLocally byte for byte with one replica and one repetition', async () => {
    const modelId = await putTinyModel(store);
    const input = tinyInput(modelId, {
      fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, repetitions: 1, replicas: 1, learningRate: 0.05 },
      shards: { batchShards: 2, layerShards: 2, evaluationShards: 1, maxParallel: 2 },
    });
    const result = await runPruneInProcess(input, { store });

    const model = await getModel(store, modelId);
    const local = await pruneLocally(oracleRequest(model, input, { batchShards: 2, layerShards: 2 }));
    try {
      assert.equal(result.stoppedBecause, local.summary.stoppedBecause);
      assert.equal(result.resultRound, local.summary.resultRound);
      assert.deepEqual(await getJson<string[]>(store, result.removedArtifactId as string), local.summary.removedGroupIds);
      assert.ok(Buffer.from(modelToArtifact(local.model)).equals(await store.get(result.modelArtifactId)), 'the same model bytes');
      result.history.forEach((round, index) => {
        const reference = local.summary.history[index];
        assert.ok(reference);
        assert.equal(round.top1, reference.top1);
        assert.equal(round.params, reference.params);
        assert.equal(round.flops, reference.flops);
        assert.equal(round.removedGroups, reference.removedGroups);
        assert.equal(round.fineTuneLoss, reference.fineTuneLoss);
      });
      assert.equal(result.baseline.top1, local.summary.baseline.top1);
    } finally {
      local.model.dispose();
      model.dispose();
    }
  });

  it('with recalibration after surgery, distillation from the input model and the per-batch reading, equals pruneLocally byte for byte', async () => {
    const modelId = await putTinyModel(store, 3);
    const recalibration = { dataset: { spec: TUNING_SPEC }, batchSize: 8, batches: 5 };
    const distillation = { weight: 0.7, temperature: 3 };
    const input = tinyInput(modelId, {
      proscore: { reading: 'per-batch', order: 'descending' },
      recalibration,
      fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, repetitions: 1, replicas: 1, learningRate: 0.05, distillation },
      shards: { batchShards: 2, layerShards: 1, evaluationShards: 1, maxParallel: 2 },
    });
    const result = await runPruneInProcess(input, { store });
    const model = await getModel(store, modelId);
    const local = await pruneLocally({
      ...oracleRequest(model, input, { batchShards: 2 }),
      proscore: { reading: 'per-batch', order: 'descending' },
      recalibration: { data: resolveDataset(TUNING_SPEC), batches: 5, batchSize: 8 },
      distillation,
    });
    try {
      assert.deepEqual(await getJson<string[]>(store, result.removedArtifactId as string), local.summary.removedGroupIds);
      assert.ok(Buffer.from(modelToArtifact(local.model)).equals(await store.get(result.modelArtifactId)), 'the same model bytes');
      const plain = await runPruneInProcess({ ...input, recalibration: undefined, fineTune: { ...(input.fineTune as NonNullable<typeof input.fineTune>), distillation: undefined } }, { store });
      assert.notEqual(plain.modelArtifactId, result.modelArtifactId, 'recalibration and distillation changed the result');
    } finally {
      local.model.dispose();
      model.dispose();
    }
  });

  it('averages replicas by sample count and stops at a boundary when asked', async () => {
    const modelId = await putTinyModel(store, 2);
    const phases = new Set<string>();
    let boundaries = 0;
    const result = await runPruneInProcess(tinyInput(modelId, { plan: { target: { metric: 'channels', fraction: 0.4 }, rounds: 3 } }), {
      store,
      onProgress: (phase) => phases.add(phase),
      atBoundary: async () => {
        boundaries += 1;
        return boundaries === 2 ? 'cancel' : 'continue';
      },
    });
    assert.equal(result.stoppedBecause, 'cancelled');
    assert.equal(result.resultRound, 1);
    assert.equal(result.history.length, 1);
    assert.equal(result.modelArtifactId, result.history[0]?.modelArtifactId);
    for (const phase of ['baseline', 'scoring', 'merging', 'planning', 'surgery', 'fine-tuning', 'averaging', 'evaluating']) assert.ok(phases.has(phase), phase);
    assert.ok(tf.memory().numTensors < 50, `tensors left: ${tf.memory().numTensors}`);
  });
});
