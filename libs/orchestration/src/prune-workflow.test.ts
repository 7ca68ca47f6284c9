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
import { getJson, runPruneInProcess } from '@ippro/activities';
import { kernelFingerprint } from '@ippro/runtime';
import { putTinyModel, tinyInput } from '@ippro/activities/testing';
import { ArtifactStore } from '@ippro/artifact-store';
import { startDevServer } from '@ippro/temporal-server';
import type { DevServer } from '@ippro/temporal-server';
import { pauseSignal, pruneModel } from '@ippro/workflows';
import { resultWithoutTiming } from '@ippro/workflow-core';
import type { PruneProgress } from '@ippro/workflow-core';
import { startOrchestrator, workflowsPath } from './orchestrator';
import type { OrchestratorHandle } from './orchestrator';
import { measureWorkflowHistories } from './payload-sizes';
import { cancelPrune, pausePrune, pruneHandle, queryProgress, resumePrune } from './prune-client';
import { connectTemporalClient } from './temporal-connection';

// The worker logs every webpack module at INFO; warnings are what a test run needs.
Runtime.install({ logger: new DefaultLogger('WARN') });

const PAYLOAD_LIMIT = 64 * 1024;
const taskQueue = 'ippro-test';

let dir: string;
let server: DevServer;
let orchestrator: OrchestratorHandle;
let client: Client;
let store: ArtifactStore;

before(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-orchestration-'));
  server = await startDevServer({ dbFile: join(dir, 'temporal.db') });
  store = await ArtifactStore.open({ root: join(dir, 'workflow-store') });
  const started = Date.now();
  orchestrator = await startOrchestrator({ address: server.address, namespace: server.namespace, taskQueue, artifacts: store });
  console.log(`# orchestrator (workflow bundle) started in ${Date.now() - started} ms`);
  client = await connectTemporalClient({ address: server.address, namespace: server.namespace });
});

after(async () => {
  await client?.connection.close();
  await orchestrator?.shutdown();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('pruneModel through a real Temporal dev server', () => {
  it('produces the same model, byte for byte, as the in-process run of the same shards and replicas', async () => {
    const modelId = await putTinyModel(store);
    const input = tinyInput(modelId);
    const workflowId = 'equality';

    let started = Date.now();
    const viaTemporal = await client.workflow.execute(pruneModel, { args: [input], taskQueue, workflowId });
    const temporalMs = Date.now() - started;

    const referenceStore = await ArtifactStore.open({ root: join(dir, 'reference-store') });
    await putTinyModel(referenceStore);
    started = Date.now();
    const inProcess = await runPruneInProcess(input, { store: referenceStore, runId: workflowId });
    const inProcessMs = Date.now() - started;
    console.log(`# workflow ${temporalMs} ms, in-process ${inProcessMs} ms`);

    assert.equal(viaTemporal.history.length, 2, 'two rounds ran');
    assert.notEqual(viaTemporal.modelArtifactId, modelId, 'the model changed');
    // Each round's timing is the one field in which two runs of the same input differ.
    assert.deepEqual(resultWithoutTiming(viaTemporal), resultWithoutTiming(inProcess), 'same result, metrics and artifact ids');
    // Both name the numeric path they computed on: this process's cpu backend, as the run recorded it when it started.
    const { fingerprint, tfjs } = kernelFingerprint({ backend: 'cpu', threads: 1 });
    assert.deepEqual(viaTemporal.numericPath, { fingerprint, backend: 'cpu', threads: 1, tfjs });
    for (const result of [viaTemporal, inProcess]) {
      assert.ok([result.baseline, ...result.history].every((round) => round.timing !== undefined && round.timing.seconds > 0), 'every round is timed');
    }
    const fromWorkflow = await store.get(viaTemporal.modelArtifactId);
    const fromReference = await referenceStore.get(inProcess.modelArtifactId);
    assert.ok(fromWorkflow.equals(fromReference), 'the same model bytes');
    assert.ok(viaTemporal.history.every((round) => round.removedGroups > 0));
    assert.ok((viaTemporal.history[1]?.channels ?? 0) < viaTemporal.baseline.channels);
    const removed = await getJson<string[]>(store, viaTemporal.removedArtifactId as string);
    assert.equal(removed.length, viaTemporal.removedTotal);

    // Every payload that crossed Temporal, in every run of the chain (one per round), is small.
    const sizes = await measureWorkflowHistories(client, workflowId);
    console.log(`# history: ${JSON.stringify(sizes)}`);
    assert.equal(sizes.runs, 2, 'one run per round (continue-as-new)');
    assert.ok(sizes.largestEventPayloadBytes < PAYLOAD_LIMIT, `largest event payload ${sizes.largestEventPayloadBytes} bytes (${sizes.largestEventType})`);
    assert.ok(sizes.largestRunPayloadBytes < 4 * PAYLOAD_LIMIT, `largest run ${sizes.largestRunPayloadBytes} payload bytes`);

    // The workflow code is deterministic: every run replays against its recorded history.
    const histories = client.workflow.list({ query: `WorkflowId = '${workflowId}'` }).intoHistories();
    let replayed = 0;
    for await (const replay of Worker.runReplayHistories({ workflowsPath: workflowsPath() }, histories)) {
      assert.equal(replay.error, undefined, `replay of run ${replay.runId}: ${String(replay.error)}`);
      replayed += 1;
    }
    assert.equal(replayed, 2);
  });

  it('pauses, resumes and cancels at round boundaries and reports progress', async () => {
    const modelId = await putTinyModel(store, 3);
    const input = tinyInput(modelId, {
      plan: { target: { metric: 'channels', fraction: 0.4 }, rounds: 4 },
      fineTune: { dataset: { spec: 'synthetic:cifar?n=32&seed=2&classes=10' }, batchSize: 4, steps: 1, replicas: 1, learningRate: 0.05 },
      shards: { batchShards: 1, layerShards: 1, evaluationShards: 1, maxParallel: 1 },
    });
    const workflowId = 'pause-resume-cancel';
    // Paused from the start: the baseline is measured, then the run waits before round 1.
    await client.workflow.signalWithStart(pruneModel, { args: [input], taskQueue, workflowId, signal: pauseSignal, signalArgs: [] });
    const handle = pruneHandle(client, workflowId);
    let progress: PruneProgress = await queryProgress(handle);
    await until('the pause before round 1', async () => {
      progress = await queryProgress(handle);
      return progress.phase === 'paused';
    });
    assert.equal(progress.round, 1);
    assert.equal(progress.rounds, 4);
    assert.equal(progress.paused, true);
    assert.deepEqual(progress.history, []);
    assert.equal(progress.baseline?.round, 0);
    assert.equal(progress.currentModelArtifactId, modelId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await queryProgress(handle)).phase, 'paused', 'stays paused');

    await resumePrune(handle);
    const phases = new Set<string>();
    await until('round 1 to finish', async () => {
      progress = await queryProgress(handle);
      phases.add(progress.phase);
      return progress.history.length >= 1;
    });
    await pausePrune(handle);
    await until('the next pause', async () => {
      progress = await queryProgress(handle);
      return progress.phase === 'paused';
    });
    const atPause = await queryProgress(handle);
    const finished = atPause.history.length;
    assert.ok(finished >= 1 && finished < 4, `paused after ${finished} round(s)`);
    assert.equal(atPause.round, finished + 1);
    assert.equal(atPause.currentModelArtifactId, atPause.history[finished - 1]?.modelArtifactId);
    assert.ok([...phases].some((phase) => phase !== 'paused'), `saw phases ${[...phases].join(', ')}`);

    await cancelPrune(handle);
    const result = await handle.result();
    assert.equal(result.stoppedBecause, 'cancelled');
    assert.equal(result.resultRound, finished);
    assert.equal(result.history.length, finished);
    assert.equal(result.modelArtifactId, atPause.currentModelArtifactId);
    assert.deepEqual(result.history, atPause.history);
    const last = await queryProgress(handle);
    assert.equal(last.phase, 'done');
    assert.equal(last.stoppedBecause, 'cancelled');
  });

  it('fails fast, without retries, on bad input', async () => {
    const badInput = tinyInput('0'.repeat(64));
    await assert.rejects(client.workflow.execute(pruneModel, { args: [badInput], taskQueue, workflowId: 'unknown-model' }), (error) => {
      assert.ok(error instanceof WorkflowFailedError);
      const text = `${error.cause?.message} ${(error.cause?.cause as Error | undefined)?.message ?? ''}`;
      assert.match(text, /0{64}/, text);
      return true;
    });
    const sizes = await measureWorkflowHistories(client, 'unknown-model');
    assert.equal(sizes.runs, 1);
    await assert.rejects(client.workflow.execute(pruneModel, { args: [tinyInput('not-a-hash')], taskQueue, workflowId: 'bad-id' }), (error) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.match(String(error.cause?.message), /modelArtifactId must be a sha256/);
      return true;
    });
  });
});
