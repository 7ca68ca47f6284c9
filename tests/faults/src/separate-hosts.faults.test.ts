import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { seaweedFsForTests } from '@ippro/artifact-store/testing';
import { WorkerClient } from '@ippro/compute';
import { startPrune } from '@ippro/orchestration';
import { resultWithoutTiming } from '@ippro/workflow-core';
import type { PruneWorkflowInput } from '@ippro/workflow-core';
import type { WorkerProcess } from './testing/fault-stack';
import { faultInput, jobInRun, midCallDelay, referenceRun, resultOf, smallModelBytes, until } from './testing/fault-runs';
import type { ReferenceRun } from './testing/fault-runs';
import { LanDeployment } from './testing/lan-deployment';
import { retrySummary } from './testing/run-history';
import { netnsUnavailable } from './testing/virtual-lan';
import { callStarted, doneLines, finishedOn } from './testing/worker-calls';

/**
 * Orchestrator (with the Temporal server), storage (SeaweedFS) and two workers on separate hosts:
 * network namespaces on a virtual switch, each with its own address. The orchestrator finds the
 * workers through one name with two addresses. In the middle of a scoring shard the cable of the
 * worker running it is pulled at the switch: the worker process keeps running, its connections
 * just go silent. The shard moves to the other worker after the heartbeat timeout, and the run
 * ends with the model of the undisturbed run, byte for byte. Then the cable is plugged in again
 * and a second run, with the workers given as a list of addresses, uses both.
 */
const netns = netnsUnavailable();
if (netns !== false) process.stderr.write(`# skip: ${netns}\n`);
const weed = netns === false ? seaweedFsForTests() : { skip: netns };
const unavailable = netns !== false ? netns : weed.skip;

const HEARTBEAT_SECONDS = 5;
let deployment: LanDeployment | undefined;
let reference: ReferenceRun;
let input: PruneWorkflowInput;

before(async () => {
  if (unavailable !== false) return;
  const modelBytes = await smallModelBytes(2);
  deployment = await LanDeployment.start({ name: 'separate-hosts', workers: 2, pool: 'dns', ...(weed.weedPath === undefined ? {} : { weedPath: weed.weedPath }) });
  const { key } = await deployment.store.put(modelBytes);
  input = faultInput(key, { activity: { heartbeatSeconds: HEARTBEAT_SECONDS } });
  reference = await referenceRun(faultInput(key), [modelBytes]);
});

after(async () => {
  const lan = deployment?.lan;
  await deployment?.stop();
  if (lan !== undefined) assert.deepEqual(lan.leftovers(), [], 'the virtual LAN was removed');
});

function stackOf(): LanDeployment {
  assert.ok(deployment !== undefined, 'the deployment started');
  return deployment;
}

/** Runs `runId` to its end and checks result and model against the undisturbed run. */
async function assertSameModel(stack: LanDeployment, runId: string): Promise<void> {
  const result = await resultOf(await stack.client(), runId);
  assert.deepEqual(resultWithoutTiming(result), resultWithoutTiming(reference.result));
  assert.ok((await stack.store.get(result.modelArtifactId)).equals(reference.modelBytes), 'the final model differs from the undisturbed run');
}

/** Whether every call the worker logged as started has ended (done, failed or stopped). */
function idle(worker: WorkerProcess): boolean {
  const ends = (what: RegExp): string[] => worker.process.linesMatching(what).map((line) => (what.exec(line.text) as RegExpExecArray)[1] as string);
  const ended = new Set(ends(/^\w+ (\S+): (?:done|failed|stopped)/));
  return ends(/^\w+ (\S+): started/).every((job) => ended.has(job));
}

test('workers on separate hosts found by name; one cut off the network mid shard: the shard moves, the model is the same', { skip: unavailable }, async () => {
  const stack = stackOf();
  const runId = 'separate-hosts';
  const started = Date.now();
  await startPrune(await stack.client(), input, { workflowId: runId, taskQueue: stack.taskQueue });

  const scoring = await callStarted(stack, 'ComputeGradStats', /separate-hosts\/r1\/s\d+/, { since: started });
  await new Promise((resolve) => setTimeout(resolve, midCallDelay(reference, scoring.jobId)));
  const cut = scoring.worker;
  const other = stack.workers.find((worker) => worker !== cut) as WorkerProcess;
  assert.equal(finishedOn(cut, scoring.kind, scoring.jobId), false, `${scoring.jobId} ended before the cut; make the call longer`);
  stack.lan.cut(`worker${cut.index}`);
  const cutAt = Date.now();

  const moved = await callStarted(stack, 'ComputeGradStats', new RegExp(scoring.jobId.replace(/\//g, '\\/')), { since: cutAt });
  assert.equal(moved.worker, other, 'the shard moved to the other worker');
  await assertSameModel(stack, runId);
  const elapsed = Date.now() - started;

  // The two shards of round 1 ran at once on the two single-slot workers: the name gave both addresses.
  const otherShards = other.process.linesMatching(/^ComputeGradStats separate-hosts\/r1\/s\d+: started/).filter((line) => line.at < cutAt);
  assert.equal(otherShards.length, 1, 'the other worker (the second address of the name) ran the other shard at the same time');
  assert.equal(cut.process.running, true, 'the cut-off worker process still runs');
  const gaveUp = stack.orchestrators.flatMap((orchestrator) => orchestrator.linesMatching(new RegExp(`^ComputeGradStats ${scoring.jobId}: worker ${cut.address.replace(/\./g, '\\.')} `)));
  assert.equal(gaveUp.length, 1, `the orchestrator gave up the call on the cut-off worker once: ${gaveUp.map((line) => line.text).join(' | ')}`);
  const retries = await retrySummary(await stack.client(), runId);
  assert.ok(retries.retried.some((entry) => entry.startsWith('computeGradStats')), 'the shard activity ran a second attempt');

  // Plugged in again, the worker answers on its address and ends the call it was left with.
  stack.lan.reconnect(`worker${cut.index}`);
  const client = new WorkerClient(cut.address, { tls: stack.workerClientTls() });
  const plaintext = new WorkerClient(cut.address);
  try {
    assert.equal((await client.getCapabilities(15_000)).workerId, `w${cut.index}`);
    // Beyond loopback the worker serves mutual TLS only: a client without a certificate gets nothing.
    await assert.rejects(plaintext.getCapabilities(5_000), (error: { code?: number }) => error.code === status.UNAVAILABLE);
  } finally {
    client.close();
    plaintext.close();
  }
  await cut.process.waitForLine(new RegExp(`^ComputeGradStats ${scoring.jobId}: (stopped|done|failed)`), 60_000);
  console.log(
    `separate hosts: cable of ${cut.address} pulled ${cutAt - scoring.startedAt} ms into ${scoring.jobId} (${reference.durations.get(jobInRun(scoring.jobId))} ms in the reference); ` +
      `the orchestrator gave it up ${(gaveUp[0]?.at ?? NaN) - cutAt} ms after the cut (${gaveUp[0]?.text}); the shard started on ${moved.worker.address} ` +
      `${moved.startedAt - cutAt} ms after the cut (heartbeat timeout ${HEARTBEAT_SECONDS} s) and took ${doneLines(stack, scoring.kind, scoring.jobId).find((line) => line.worker === other.process.name)?.ms} ms there; ` +
      `run ${elapsed} ms (undisturbed in-process ${reference.ms} ms); retried: ${retries.retried.join(', ')}`,
  );
});

test('the workers given as a list of addresses, the cut-off one plugged in again: both compute, the model is the same', { skip: unavailable }, async () => {
  const stack = stackOf();
  for (const worker of stack.workers) stack.lan.reconnect(`worker${worker.index}`);
  await until('both workers idle', () => stack.workers.every(idle), 60_000);
  await stack.orchestrators.at(-1)?.stop();
  await stack.startOrchestrator('list');
  const runId = 'separate-hosts-list';
  const started = Date.now();
  await startPrune(await stack.client(), input, { workflowId: runId, taskQueue: stack.taskQueue });
  await assertSameModel(stack, runId);
  const elapsed = Date.now() - started;
  const calls = stack.workers.map((worker) => worker.process.linesMatching(/^\w+ separate-hosts-list\/\S+: done/).length);
  for (const [index, count] of calls.entries()) assert.ok(count > 0, `worker ${index} computed part of the run`);
  console.log(`separate hosts, list of addresses: run ${elapsed} ms; calls per worker ${calls.join('/')}`);
});
