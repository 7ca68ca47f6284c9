import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import type { PruneActivities, PruneWorkflowInput } from '@ippro/workflow-core';
import { pruneModel } from '@ippro/workflows';
import { workflowsPath } from './orchestrator';
import { connectTemporalClient } from './temporal-connection';

// The workflow's rules against stand-in activities (no tfjs): each surgery appends '+' to the model
// id, and a model with k '+' scores top-1 = 1 - 0.1 k.
Runtime.install({ logger: new DefaultLogger('WARN') });

const MODEL = 'f'.repeat(64);
const calls: string[] = [];

const activities: PruneActivities = {
  planScoringShards: async () => ({ shards: [] }),
  computeGradStats: async () => {
    throw new Error('not used');
  },
  mergeAndScore: async (input) => ({ scoresArtifactId: `scores(${input.modelArtifactId})`, groupCount: 3 }),
  scoreTrajectory: async () => {
    throw new Error('not used');
  },
  batchNormStatistics: async () => {
    throw new Error('not used');
  },
  recalibrateModel: async () => {
    throw new Error('not used');
  },
  planRound: async (input) => {
    calls.push(`plan ${input.round}`);
    return { planArtifactId: `plan${input.round}`, groupsThisRound: input.round <= 3 ? 2 : 0, reachedGoal: input.round >= 3, removedFraction: 0.1 * input.round };
  },
  applySurgery: async (input) => ({ modelArtifactId: `${input.modelArtifactId}+`, removedArtifactId: `removed-after-${input.planArtifactId}`, removedTotal: 2 * Number(input.planArtifactId.slice(4)), params: 1 }),
  fineTuneReplica: async (input) => ({ modelArtifactId: `${input.startModelArtifactId}~${input.replica.index}`, sampleCount: 10 + input.replica.index, steps: 1, lossSum: 1 }),
  averageModels: async (input) => ({ modelArtifactId: input.models[0]?.modelArtifactId.replace(/~\d+$/, '') ?? '' }),
  planEvaluationShards: async () => ({ shards: [{ start: 0, end: 1 }, { start: 1, end: 2 }], datasetSize: 100 }),
  evaluateShard: async (input) => {
    const cuts = input.modelArtifactId.split('+').length - 1;
    return { correct: 50 - 5 * cuts, lossSum: 1, count: 50 };
  },
  mergeEvaluations: async (input) => {
    const correct = input.parts.reduce((sum, part) => sum + part.correct, 0);
    const count = input.parts.reduce((sum, part) => sum + part.count, 0);
    return { params: 1, flops: 1, channels: 1, top1: correct / count, loss: 0, evaluated: count };
  },
  checkArtifacts: async (input) => ({ checked: input.artifacts.length }),
  poolFingerprint: async () => ({ fingerprint: 'rules0fingerprint' }),
};

let dir: string;
let server: DevServer;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let client: Client;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ippro-workflow-rules-'));
  server = await startDevServer({ dbFile: join(dir, 'temporal.db') });
  connection = await NativeConnection.connect({ address: server.address });
  worker = await Worker.create({ connection, namespace: server.namespace, taskQueue: 'rules', workflowsPath: workflowsPath(), activities });
  running = worker.run();
  client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
});

after(async () => {
  await client?.connection.close();
  worker?.shutdown();
  await running;
  await connection?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

function input(overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId: MODEL,
    criterion: 'l1',
    evaluation: { dataset: { spec: 'synthetic:cifar' }, batchSize: 8 },
    plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 5 },
    seed: 1,
    ...overrides,
  };
}

describe('pruneModel rules', () => {
  it('keeps the last round within the accuracy budget', async () => {
    const result = await client.workflow.execute(pruneModel, { args: [input({ maxAccuracyDrop: 0.15 })], taskQueue: 'rules', workflowId: 'budget' });
    assert.equal(result.stoppedBecause, 'accuracy-budget');
    assert.deepEqual(result.history.map((round) => round.top1), [0.9, 0.8]);
    assert.equal(result.resultRound, 1);
    assert.equal(result.modelArtifactId, `${MODEL}+`);
    assert.equal(result.removedArtifactId, 'removed-after-plan1');
    assert.equal(result.removedTotal, 2);
    assert.equal(result.baseline.top1, 1);
  });

  it('stops when the planner has nothing left to remove', async () => {
    const result = await client.workflow.execute(pruneModel, { args: [input()], taskQueue: 'rules', workflowId: 'target' });
    assert.equal(result.stoppedBecause, 'target-reached');
    assert.equal(result.resultRound, 3);
    assert.equal(result.modelArtifactId, `${MODEL}+++`);
  });

  it('averages replicas and reports the weighted fine-tuning loss', async () => {
    const fineTune = { dataset: { spec: 'synthetic:cifar' }, batchSize: 8, steps: 2, replicas: 3, repetitions: 2, learningRate: 0.1 };
    const result = await client.workflow.execute(pruneModel, {
      args: [input({ fineTune, plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 1 } })],
      taskQueue: 'rules',
      workflowId: 'replicas',
    });
    assert.equal(result.stoppedBecause, 'rounds-done');
    assert.equal(result.modelArtifactId, `${MODEL}+`);
    assert.equal(result.history[0]?.fineTuneLoss, 6 / (2 * (10 + 11 + 12)));
  });
});
