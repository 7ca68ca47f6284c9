import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ArtifactStore } from '@ippro/artifact-store';
import { DatasetResolver } from '@ippro/compute-core';
import { InProcessExecutor } from './in-process-executor';
import { createPruneActivities } from './prune-activities';
import { putTinyModel } from './testing/tiny-config';

/** The orchestrator plans shards of CIFAR-10 without the dataset files: the workers read them. */
let dir: string;
let store: ArtifactStore;
let noFiles: string;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-dataset-shape-'));
  store = await ArtifactStore.open({ root: join(dir, 'store') });
  noFiles = join(dir, 'no-cifar10-here');
});

after(() => rm(dir, { recursive: true, force: true }));

/** `count` contiguous, non-empty batch ranges covering [0, batches). */
function assertCovers(ranges: readonly { start: number; end: number }[], count: number, batches: number): void {
  assert.equal(ranges.length, count);
  let next = 0;
  for (const range of ranges) {
    assert.equal(range.start, next);
    assert.ok(range.end > range.start);
    next = range.end;
  }
  assert.equal(next, batches);
}

describe('dataset shapes for shard planning', () => {
  it('knows the CIFAR-10 splits from their spec, with no files present', async () => {
    const resolver = new DatasetResolver(store, { cifar10Dir: noFiles });
    assert.deepEqual(await resolver.shape({ spec: 'cifar10:train' }), { size: 50_000, sampleShape: [32, 32, 3] });
    assert.deepEqual(await resolver.shape({ spec: 'cifar10:test' }), { size: 10_000, sampleShape: [32, 32, 3] });
    await assert.rejects(resolver.resolve({ spec: 'cifar10:test' }), /does not exist/, 'opening the data itself needs the files');
    assert.equal((await resolver.shape({ spec: 'synthetic:cifar?n=48&seed=1&classes=10' })).size, 48);
    await assert.rejects(resolver.shape({ spec: 'cifar10:validation' }), /unknown CIFAR-10 split/);
  });

  it('plans scoring and evaluation shards of CIFAR-10 and picks augmentation without the files', async () => {
    const activities = createPruneActivities({ store, executor: new InProcessExecutor({ store, cifar10Dir: noFiles }), cifar10Dir: noFiles });
    const evaluation = await activities.planEvaluationShards({ evaluation: { dataset: { spec: 'cifar10:test' }, batchSize: 250 }, shards: 3 });
    assertCovers(evaluation.shards, 3, 10_000 / 250);
    const modelArtifactId = await putTinyModel(store);
    const scoring = await activities.planScoringShards({
      modelArtifactId,
      criterion: 'proscore',
      scoring: { dataset: { spec: 'cifar10:train' }, batchSize: 100 },
      batchShards: 2,
      layerShards: 1,
    });
    assertCovers(
      scoring.shards.map((shard) => shard.batches),
      2,
      50_000 / 100,
    );
  });
});
