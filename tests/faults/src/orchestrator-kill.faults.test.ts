import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FaultStack } from './testing/fault-stack';
import { faultInput, finalModelBytes, midCallDelay, putInputs, referenceRun, resultOf, smallModelBytes, startRun } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';
import { retrySummary } from './testing/run-history';
import { callStarted, finishedOn } from './testing/worker-calls';
import { resultWithoutTiming } from '@ippro/workflow-core';

/**
 * The orchestrator process (workflow worker, activities and the artifact service the workers
 * read from) SIGKILLed in the middle of a round and started again: Temporal replays the
 * workflow on the new process, the lost activities time out by heartbeat and run again, and the
 * run ends with the model of the undisturbed run, byte for byte.
 */
let stack: FaultStack;
let reference: ReferenceRun;
let modelBytes: Buffer;
/** Activities lost with the process are retried after this heartbeat timeout. */
const HEARTBEAT_SECONDS = 5;

before(async () => {
  modelBytes = await smallModelBytes(2);
  stack = await FaultStack.start({ name: 'orchestrator-kill', workers: 2 });
  const [modelId] = await putInputs(stack, [modelBytes]);
  reference = await referenceRun(faultInput(modelId as string), [modelBytes]);
});

after(async () => {
  await stack?.stop();
});

test('SIGKILL of the orchestrator mid round, then a new orchestrator: the same model as the undisturbed run', async () => {
  const [modelId] = await putInputs(stack, [modelBytes]);
  const input = faultInput(modelId as string, { activity: { heartbeatSeconds: HEARTBEAT_SECONDS } });
  const runId = 'orchestrator-kill';
  const started = Date.now();
  await startRun(stack, input, runId);

  // In the middle of round 1: a fine-tuning replica is running on a worker.
  const tuning = await callStarted(stack, 'FineTune', /orchestrator-kill\/r1\/m0\/replica\d+/, { since: started });
  await new Promise((resolve) => setTimeout(resolve, midCallDelay(reference, tuning.jobId)));
  const killed = stack.orchestrator;
  assert.ok(killed !== undefined);
  assert.equal(finishedOn(tuning.worker, tuning.kind, tuning.jobId), false, `${tuning.jobId} ended before the kill`);
  killed.signal('SIGKILL');
  const exit = await killed.process.exited;
  assert.equal(exit.signal, 'SIGKILL');
  const killedAt = Date.now();
  // The workers lose their caller: the running call is cancelled at its next step.
  await tuning.worker.process.waitForLine(new RegExp(`FineTune ${tuning.jobId}: (stopped|failed|done)`), 60_000);

  await stack.startOrchestrator();
  const restartedAt = Date.now();
  const again = await callStarted(stack, 'FineTune', new RegExp(tuning.jobId.replace(/\//g, '\\/')), { since: killedAt });
  const result = await resultOf(await stack.client(), runId);
  const elapsed = Date.now() - started;

  assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result));
  assert.ok((await finalModelBytes(stack, result)).equals(reference.modelBytes), 'the final model differs from the undisturbed run');
  const retries = await retrySummary(await stack.client(), runId);
  assert.ok(retries.retried.length >= 1, 'an activity lost with the orchestrator was run again');
  console.log(
    `orchestrator kill: killed ${killedAt - tuning.startedAt} ms into ${tuning.jobId}; new orchestrator serving ${restartedAt - killedAt} ms later; ` +
      `${tuning.jobId} started again ${again.startedAt - killedAt} ms after the kill; run ${elapsed} ms (undisturbed in-process ${reference.ms} ms); ` +
      `${retries.activities} activities over ${retries.runs} workflow runs, retried: ${retries.retried.join(', ')}`,
  );
});
