import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FaultStack } from './testing/fault-stack';
import { faultInput, finalModelBytes, jobInRun, midCallDelay, putInputs, referenceRun, resultOf, smallModelBytes, startRun } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';
import { callStarted, doneLines, finishedOn } from './testing/worker-calls';
import type { StartedCall } from './testing/worker-calls';
import { resultWithoutTiming } from '@ippro/workflow-core';

/**
 * A worker SIGKILLed in the middle of a scoring shard, replaced on its address, and then the
 * other worker SIGKILLed in the middle of a fine-tuning call (each at 40% of what the call took
 * in the undisturbed run): the run ends with the model of the undisturbed run, byte for byte.
 */
let stack: FaultStack;
let reference: ReferenceRun;
let modelBytes: Buffer;

before(async () => {
  modelBytes = await smallModelBytes(1);
  stack = await FaultStack.start({ name: 'worker-kill', workers: 2 });
  reference = await referenceRun(faultInput(await putInputs(stack, [modelBytes]).then(([id]) => id as string)), [modelBytes]);
});

after(async () => {
  await stack?.stop();
});

/** SIGKILLs the worker running `call` in its middle; resolves once it is gone. */
async function killDuring(call: StartedCall): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, midCallDelay(reference, call.jobId)));
  assert.equal(finishedOn(call.worker, call.kind, call.jobId), false, `${call.kind} ${call.jobId} ended before the kill; make the call longer`);
  call.worker.process.signal('SIGKILL');
  const killedAfter = Date.now() - call.startedAt;
  const exit = await call.worker.process.process.exited;
  assert.equal(exit.signal, 'SIGKILL');
  return killedAfter;
}

test('SIGKILL of a worker mid scoring shard and of another mid fine-tuning call: the same model as the undisturbed run', async () => {
  const [modelId] = await putInputs(stack, [modelBytes]);
  const input = faultInput(modelId as string);
  const runId = 'worker-kill';
  const started = Date.now();
  await startRun(stack, input, runId);

  const scoring = await callStarted(stack, 'ComputeGradStats', /worker-kill\/r1\/s\d+/, { since: started });
  const scoringKilledAfter = await killDuring(scoring);
  // The killed worker comes back on its address, as a supervised process or a pod would.
  await stack.startWorker(scoring.worker.index, scoring.worker.port);

  const tuning = await callStarted(stack, 'FineTune', /worker-kill\/r1\/m0\/replica\d+/, { since: started });
  const tuningKilledAfter = await killDuring(tuning);

  const result = await resultOf(await stack.client(), runId);
  const elapsed = Date.now() - started;
  assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result));
  assert.ok((await finalModelBytes(stack, result)).equals(reference.modelBytes), 'the final model differs from the undisturbed run');

  // Each killed call was retried on another worker and finished there.
  for (const call of [scoring, tuning]) {
    const retries = stack.orchestratorLines(new RegExp(`${call.kind} ${call.jobId}: worker ${call.worker.address} failed \\(UNAVAILABLE`));
    assert.equal(retries.length, 1, `${call.kind} ${call.jobId} was not retried after the kill`);
    assert.equal(doneLines(stack, call.kind, call.jobId).length, 1, `${call.kind} ${call.jobId} did not finish elsewhere`);
  }
  const scoringDone = doneLines(stack, scoring.kind, scoring.jobId)[0];
  const tuningDone = doneLines(stack, tuning.kind, tuning.jobId)[0];
  console.log(
    `worker kill: ${scoring.jobId} killed ${scoringKilledAfter} ms after it started on ${scoring.worker.address} (${reference.durations.get(jobInRun(scoring.jobId))} ms in the reference), ` +
      `redone on ${scoringDone?.worker} in ${scoringDone?.ms} ms; ${tuning.jobId} killed ${tuningKilledAfter} ms after it started ` +
      `(${reference.durations.get(jobInRun(tuning.jobId))} ms in the reference), redone on ${tuningDone?.worker} in ${tuningDone?.ms} ms; ` +
      `run ${elapsed} ms (undisturbed in-process ${reference.ms} ms); retries: ${stack.orchestratorLines(/failed \(/).length}`,
  );
});
