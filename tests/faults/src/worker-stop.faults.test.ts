import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkerClient } from '@ippro/compute';
import { resultWithoutTiming } from '@ippro/workflow-core';
import { FaultStack } from './testing/fault-stack';
import { faultInput, finalModelBytes, midCallDelay, putInputs, referenceRun, resultOf, smallModelBytes, startRun } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';
import { retrySummary } from './testing/run-history';
import { callStarted, doneLines, finishedOn } from './testing/worker-calls';

/**
 * A worker that stops answering without closing its connections (SIGSTOP) in the middle of a
 * scoring shard: the shard's activity times out by heartbeat and runs again on the other
 * worker, the orchestrator abandons the silent call and stops sending work there, and the run
 * ends with the model of the undisturbed run. The stopped worker is continued (SIGCONT) at the
 * end, answers again, and is stopped with the rest.
 */
let stack: FaultStack;
let reference: ReferenceRun;
let modelBytes: Buffer;
const HEARTBEAT_SECONDS = 5;

before(async () => {
  modelBytes = await smallModelBytes(4);
  stack = await FaultStack.start({ name: 'worker-stop', workers: 2 });
  const [modelId] = await putInputs(stack, [modelBytes]);
  reference = await referenceRun(faultInput(modelId as string), [modelBytes]);
});

after(async () => {
  await stack?.stop();
});

test('a worker stopped (SIGSTOP) mid scoring shard: the shard times out by heartbeat, moves to the other worker, and the model is the same', async () => {
  const [modelId] = await putInputs(stack, [modelBytes]);
  const input = faultInput(modelId as string, { activity: { heartbeatSeconds: HEARTBEAT_SECONDS } });
  const runId = 'worker-stop';
  const started = Date.now();
  await startRun(stack, input, runId);

  const scoring = await callStarted(stack, 'ComputeGradStats', /worker-stop\/r1\/s\d+/, { since: started });
  await new Promise((resolve) => setTimeout(resolve, midCallDelay(reference, scoring.jobId)));
  const stopped = scoring.worker;
  assert.equal(finishedOn(stopped, scoring.kind, scoring.jobId), false, `${scoring.jobId} ended before the stop`);
  assert.ok(stopped.process.signal('SIGSTOP'));
  const stoppedAt = Date.now();
  try {
    const other = stack.workers.find((worker) => worker !== stopped);
    assert.ok(other !== undefined);
    const moved = await callStarted(stack, 'ComputeGradStats', new RegExp(scoring.jobId.replace(/\//g, '\\/')), { since: stoppedAt });
    assert.equal(moved.worker, other, 'the shard moved to the other worker');

    const result = await resultOf(await stack.client(), runId);
    const elapsed = Date.now() - started;
    assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result));
    assert.ok((await finalModelBytes(stack, result)).equals(reference.modelBytes), 'the final model differs from the undisturbed run');
    assert.equal(stopped.process.running, true, 'the stopped worker is still there');
    const abandoned = stack.orchestratorLines(new RegExp(`ComputeGradStats ${scoring.jobId}: worker ${stopped.address} sent no progress`));
    assert.equal(abandoned.length, 1, 'the orchestrator abandoned the silent call');
    const retries = await retrySummary(await stack.client(), runId);
    assert.ok(retries.retried.some((entry) => entry.startsWith('computeGradStats')), 'the shard activity ran a second attempt');
    console.log(
      `worker stop: SIGSTOP ${stoppedAt - scoring.startedAt} ms into ${scoring.jobId}; it started again on ${moved.worker.process.name} ` +
        `${moved.startedAt - stoppedAt} ms later (heartbeat timeout ${HEARTBEAT_SECONDS} s) and took ${doneLines(stack, scoring.kind, scoring.jobId)[0]?.ms} ms; ` +
        `run ${elapsed} ms (undisturbed in-process ${reference.ms} ms); retried: ${retries.retried.join(', ')}`,
    );
  } finally {
    stopped.process.signal('SIGCONT');
  }
  // Continued, it answers again (its abandoned call was cancelled while it was stopped).
  const client = new WorkerClient(stopped.address);
  try {
    const capabilities = await client.getCapabilities(10_000);
    assert.equal(capabilities.workerId, `w${stopped.index}`);
  } finally {
    client.close();
  }
  await stopped.process.waitForLine(new RegExp(`ComputeGradStats ${scoring.jobId}: (stopped|done|failed)`), 30_000);
});
