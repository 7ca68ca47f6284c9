import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterRound, firstStepOf, initialCarry, resolveSettings, stepsForEpochs } from './prune-rounds';
import type { PruneWorkflowInput, RoundMetrics } from './prune-types';

const MODEL = 'a'.repeat(64);

function input(overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId: MODEL,
    criterion: 'l1',
    evaluation: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8 },
    plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 3 },
    seed: 1,
    ...overrides,
  };
}

function metrics(round: number, top1: number, reachedGoal = true): RoundMetrics {
  return { round, modelArtifactId: String(round).repeat(64), params: 10, flops: 10, channels: 10, top1, loss: 1, evaluated: 8, removedGroups: 1, removedTotal: round, reachedGoal };
}

describe('afterRound', () => {
  const baseline = metrics(0, 0.9);
  baseline.modelArtifactId = MODEL;

  it('continues with the new model until the last round, then reports why it stopped', () => {
    let carry = initialCarry(input(), baseline);
    const first = afterRound(input(), carry, { kind: 'done', metrics: metrics(1, 0.89), removedArtifactId: 'r1' });
    assert.ok(first.next);
    carry = first.next;
    assert.equal(carry.round, 2);
    assert.equal(carry.modelArtifactId, '1'.repeat(64));
    carry = { ...carry, round: 3 };
    const last = afterRound(input(), carry, { kind: 'done', metrics: metrics(3, 0.88, false), removedArtifactId: 'r3' });
    assert.equal(last.result?.stoppedBecause, 'rounds-done');
    assert.equal(last.result?.resultRound, 3);
    assert.equal(last.result?.modelArtifactId, '3'.repeat(64));
  });

  it('keeps the last round within the accuracy budget', () => {
    const carry = { ...initialCarry(input(), baseline), round: 2, modelArtifactId: '1'.repeat(64), history: [metrics(1, 0.89)], removedArtifactId: 'r1', removedTotal: 1 };
    const step = afterRound(input({ maxAccuracyDrop: 0.05 }), carry, { kind: 'done', metrics: metrics(2, 0.8), removedArtifactId: 'r2' });
    assert.equal(step.result?.stoppedBecause, 'accuracy-budget');
    assert.equal(step.result?.resultRound, 1);
    assert.equal(step.result?.modelArtifactId, '1'.repeat(64));
    assert.equal(step.result?.removedArtifactId, 'r1');
    assert.equal(step.result?.history.length, 2, 'the round over budget is reported');
  });

  it('stops when the plan removes nothing', () => {
    const carry = initialCarry(input(), baseline);
    assert.equal(afterRound(input(), carry, { kind: 'nothing-removed', reachedGoal: true }).result?.stoppedBecause, 'target-reached');
    assert.equal(afterRound(input(), carry, { kind: 'nothing-removed', reachedGoal: false, reason: 'x' }).result?.stoppedBecause, 'nothing-to-remove');
  });
});

describe('settings', () => {
  it('numbers local-SGD steps so successive repetitions and rounds continue through the data', () => {
    assert.deepEqual([firstStepOf(1, 0, 2, 5), firstStepOf(1, 1, 2, 5), firstStepOf(2, 0, 2, 5)], [0, 5, 10]);
  });

  it('shares a budget of epochs over rounds, repetitions and replicas, rounding up to whole steps', () => {
    // 50,000 samples in batches of 128: 391 batches an epoch.
    assert.equal(stepsForEpochs(3, 50_000, 128, { rounds: 3, repetitions: 1, replicas: 1 }), 391);
    assert.equal(stepsForEpochs(3, 50_000, 128, { rounds: 3, repetitions: 4, replicas: 2 }), 49, '391 / 8 = 48.9, rounded up');
    assert.equal(stepsForEpochs(0.5, 32, 8, { rounds: 1, repetitions: 1, replicas: 1 }), 2);
    assert.equal(stepsForEpochs(0.01, 32, 8, { rounds: 4, repetitions: 1, replicas: 1 }), 1, 'at least one step');
  });

  it('refuses bad settings, naming the field', () => {
    assert.throws(() => resolveSettings(input({ shards: { batchShards: 0 } })), /shards\.batchShards must be a positive integer/);
    assert.throws(() => resolveSettings(input({ modelArtifactId: 'model.json' })), /modelArtifactId must be a sha256/);
    assert.throws(() => resolveSettings(input({ plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 0 } })), /plan\.rounds/);
    assert.equal(resolveSettings(input()).maxParallel, 4);
  });
});
