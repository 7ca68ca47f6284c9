import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { WorkflowFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { runCompareInProcess } from '@ippro/activities';
import { EVALUATION_SPEC, SCORING_SPEC, TUNING_SPEC, putTinyModel } from '@ippro/activities/testing';
import { ArtifactStore } from '@ippro/artifact-store';
import type { CompareInput } from '@ippro/compare';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { compareCriteria } from '@ippro/workflows';
import { connectTemporalClient, measureWorkflowHistories, startOrchestrator, workflowsPath } from './index';
import type { OrchestratorHandle } from './index';
import { queryCompareProgress, startCompare } from './compare-client';

Runtime.install({ logger: new DefaultLogger('WARN') });

const PAYLOAD_LIMIT = 64 * 1024;
const taskQueue = 'ippro-compare-test';

let dir: string;
let server: DevServer;
let orchestrator: OrchestratorHandle;
let client: Client;
let store: ArtifactStore;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-compare-workflow-'));
  server = await startDevServer({ dbFile: join(dir, 'temporal.db') });
  store = await ArtifactStore.open({ root: join(dir, 'workflow-store') });
  orchestrator = await startOrchestrator({ address: server.address, namespace: server.namespace, taskQueue, artifacts: store });
  client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
});

after(async () => {
  await client?.connection.close();
  await orchestrator?.shutdown();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

function input(modelArtifactId: string): CompareInput {
  return {
    modelArtifactId,
    criteria: ['proscore', 'l2', 'l1', 'taylor', 'bn', 'random'],
    targets: [0.3, 0.6],
    lambda: 1,
    scoring: { dataset: { spec: SCORING_SPEC }, batchSize: 8 },
    fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 1, learningRate: 0.05 },
    evaluation: { dataset: { spec: EVALUATION_SPEC }, batchSize: 8 },
    randomSeeds: 2,
    seed: 3,
    shards: { batchShards: 2, layerShards: 1, maxParallel: 4 },
  };
}

describe('compareCriteria through a real Temporal dev server', () => {
  it('gives the result of the in-process run, artifact ids included, with small payloads and a replayable history', async () => {
    const modelId = await putTinyModel(store, 4);
    const workflowId = 'compare-equality';
    const handle = await startCompare(client, input(modelId), { workflowId, taskQueue });
    const viaTemporal = await handle.result();
    const progress = await queryCompareProgress(handle);
    assert.equal(progress.phase, 'done');
    assert.equal(progress.rowsDone, 7 * 2);

    const referenceStore = await ArtifactStore.open({ root: join(dir, 'reference-store') });
    await putTinyModel(referenceStore, 4);
    const inProcess = await runCompareInProcess(input(modelId), { store: referenceStore, runId: workflowId });
    assert.deepEqual(viaTemporal, inProcess);
    assert.equal(viaTemporal.scoring?.passes, 1);
    assert.equal(viaTemporal.rows.length, 14);

    const sizes = await measureWorkflowHistories(client, workflowId);
    assert.equal(sizes.runs, 1);
    assert.ok(sizes.largestEventPayloadBytes < PAYLOAD_LIMIT, `largest event payload ${sizes.largestEventPayloadBytes} bytes (${sizes.largestEventType})`);

    const histories = client.workflow.list({ query: `WorkflowId = '${workflowId}'` }).intoHistories();
    let replayed = 0;
    for await (const replay of Worker.runReplayHistories({ workflowsPath: workflowsPath() }, histories)) {
      assert.equal(replay.error, undefined, `replay of run ${replay.runId}: ${String(replay.error)}`);
      replayed += 1;
    }
    assert.equal(replayed, 1);
  });

  it('runs seeds with scoring draws, recalibration, distillation, a test set and PROscore variants (the trajectory included) as the in-process run does', async () => {
    const modelId = await putTinyModel(store, 6);
    const workflowId = 'compare-recovery';
    const recovering: CompareInput = {
      ...input(modelId),
      criteria: ['proscore', 'proscore:per-batch+descending', 'proscore:trajectory', 'l2'],
      targets: [0.4],
      randomSeeds: undefined,
      seeds: 2,
      scoringSamples: 24,
      recalibration: { dataset: { spec: TUNING_SPEC }, batchSize: 8, batches: 2 },
      fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, learningRate: 0.05, learningRateSchedule: 'cosine', distillation: { weight: 0.5, temperature: 2 } },
      test: { dataset: { spec: TUNING_SPEC }, batchSize: 8 },
      shards: { batchShards: 1, layerShards: 1, evaluationShards: 2, maxParallel: 4 },
    };
    const viaTemporal = await (await startCompare(client, recovering, { workflowId, taskQueue })).result();
    const referenceStore = await ArtifactStore.open({ root: join(dir, 'reference-recovery') });
    await putTinyModel(referenceStore, 6);
    assert.deepEqual(viaTemporal, await runCompareInProcess(recovering, { store: referenceStore, runId: workflowId }));
    assert.equal(viaTemporal.rows.length, 4 * 2);
    assert.ok(viaTemporal.rows.every((row) => row.recalibrated?.test !== undefined && row.tuned?.test !== undefined));
    const histories = client.workflow.list({ query: `WorkflowId = '${workflowId}'` }).intoHistories();
    for await (const replay of Worker.runReplayHistories({ workflowsPath: workflowsPath() }, histories)) assert.equal(replay.error, undefined, String(replay.error));
  });

  it('fails fast, without retries, on bad input', async () => {
    const bad = { ...input('0'.repeat(64)), targets: [0.3, 2] };
    await assert.rejects(client.workflow.execute(compareCriteria, { args: [bad], taskQueue, workflowId: 'compare-bad-target' }), (error) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.match(String(error.cause?.message), /targets: 2 is not a fraction/);
      return true;
    });
  });
});
