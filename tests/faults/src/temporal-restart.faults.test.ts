import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { FaultStack } from './testing/fault-stack';
import { faultInput, finalModelBytes, putInputs, referenceRun, resultOf, smallModelBytes, startRun } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';
import { retrySummary } from './testing/run-history';
import { callStarted } from './testing/worker-calls';
import { resultWithoutTiming } from '@ippro/workflow-core';

/**
 * The Temporal dev server stopped in the middle of a round and started again on its database
 * file and port: the orchestrator and the test's client reconnect, the run continues from what
 * the database holds, and it ends with the model of the undisturbed run, byte for byte.
 */
let stack: FaultStack;
let reference: ReferenceRun;
let modelBytes: Buffer;
const DOWN_MS = 3000;

before(async () => {
  modelBytes = await smallModelBytes(3);
  stack = await FaultStack.start({ name: 'temporal-restart', workers: 2 });
  const [modelId] = await putInputs(stack, [modelBytes]);
  reference = await referenceRun(faultInput(modelId as string), [modelBytes]);
});

after(async () => {
  await stack?.stop();
});

test('the Temporal dev server stopped mid round and started again on its database: the same model as the undisturbed run', async () => {
  const [modelId] = await putInputs(stack, [modelBytes]);
  const input = faultInput(modelId as string, { activity: { heartbeatSeconds: 10 } });
  const runId = 'temporal-restart';
  const started = Date.now();
  await startRun(stack, input, runId);

  const scoring = await callStarted(stack, 'ComputeGradStats', /temporal-restart\/r1\/s\d+/, { since: started });
  const oldPid = stack.temporal.pid;
  const { stopRequestedAt, stoppedAt, servingAt } = await stack.restartTemporal(DOWN_MS);
  assert.notEqual(stack.temporal.pid, oldPid, 'a new server process');
  assert.ok(existsSync(stack.temporal.dbFile));

  const result = await resultOf(await stack.client(), runId);
  const elapsed = Date.now() - started;
  assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result));
  assert.ok((await finalModelBytes(stack, result)).equals(reference.modelBytes), 'the final model differs from the undisturbed run');
  const retries = await retrySummary(await stack.client(), runId);
  console.log(
    `temporal restart: stop requested ${stopRequestedAt - scoring.startedAt} ms after ${scoring.jobId} started, server gone after ${stoppedAt - stopRequestedAt} ms, ` +
      `serving again ${servingAt - stoppedAt} ms later (${DOWN_MS} ms down + start); ` +
      `run ${elapsed} ms (undisturbed in-process ${reference.ms} ms); ${retries.activities} activities over ${retries.runs} workflow runs, ` +
      `retried: ${retries.retried.length === 0 ? 'none' : retries.retried.join(', ')}`,
  );
});
