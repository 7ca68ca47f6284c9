import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  ApplySurgeryInput,
  ComputeGradStatsInput,
  EvaluateShardInput,
  FineTuneReplicaInput,
  MergeAndScoreInput,
  MergeEvaluationsInput,
  PlanRoundInput,
  PruneProgress,
  PruneWorkflowInput,
} from '@ippro/workflow-core';
import { cancelSignal, pauseSignal, progressQuery, pruneModel, resumeSignal } from './index';
import { STUB_FINGERPRINT, STUB_NUMERIC_PATH, StubRun } from './testing/stub-activities';
import type { ActivityName, StubRunOptions } from './testing/stub-activities';
import { startWorkflowTestBench } from './testing/workflow-worker';
import type { WorkflowTestBench } from './testing/workflow-worker';

const INPUT_MODEL = 'a'.repeat(64);

let bench: WorkflowTestBench;

before(async () => {
  bench = await startWorkflowTestBench('workflows-prune-test');
});

after(async () => {
  await bench?.stop();
});

/** Two rounds, one shard and one replica each, so the activities run one at a time, in order. */
function input(overrides: Partial<PruneWorkflowInput> = {}): PruneWorkflowInput {
  return {
    modelArtifactId: INPUT_MODEL,
    criterion: 'proscore',
    scoring: { dataset: { spec: 'synthetic:cifar?n=8' }, batchSize: 4 },
    fineTune: { dataset: { spec: 'synthetic:cifar?n=8' }, batchSize: 4, steps: 3, learningRate: 0.1 },
    evaluation: { dataset: { spec: 'synthetic:cifar?n=8' }, batchSize: 4 },
    plan: { target: { metric: 'flops', fraction: 0.4 }, rounds: 2 },
    shards: { batchShards: 1, layerShards: 1, evaluationShards: 1, maxParallel: 1 },
    seed: 5,
    ...overrides,
  };
}

function stubRun(workflowId: string, options: StubRunOptions): StubRun {
  const run = new StubRun(INPUT_MODEL, options);
  bench.runs.set(workflowId, run);
  return run;
}

function start(workflowId: string, workflowInput: PruneWorkflowInput) {
  return bench.client.workflow.start(pruneModel, { args: [workflowInput], taskQueue: bench.taskQueue, workflowId });
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const EVALUATION: ActivityName[] = ['planEvaluationShards', 'evaluateShard', 'mergeEvaluations'];
const ROUND: ActivityName[] = ['planScoringShards', 'computeGradStats', 'mergeAndScore', 'planRound', 'applySurgery', 'fineTuneReplica', ...EVALUATION];

describe('pruneModel on stub activities', () => {
  it('runs score, plan, surgery, fine-tune and evaluate each round, in order, each step fed the one before', async () => {
    const run = stubRun('round-loop', { top1ByRound: [0.9, 0.88, 0.87], goalRound: 2 });
    const result = await (await start('round-loop', input())).result();

    // The pool's fingerprint is asked for once, when the run starts, and carried through continue-as-new.
    assert.deepEqual(run.calls.map((call) => call.name), ['poolFingerprint', ...EVALUATION, ...ROUND, ...ROUND]);
    const compute = run.calls.filter((call) => ['computeGradStats', 'fineTuneReplica', 'evaluateShard'].includes(call.name));
    assert.equal(compute.length, 7);
    for (const call of compute) assert.equal((call.input as { fingerprint?: string }).fingerprint, STUB_FINGERPRINT, `${call.name} is pinned to the run's fingerprint`);
    const [stats1, stats2] = run.callsOf<ComputeGradStatsInput>('computeGradStats');
    const [merge1, merge2] = run.callsOf<MergeAndScoreInput>('mergeAndScore');
    const [plan1, plan2] = run.callsOf<PlanRoundInput>('planRound');
    const [surgery1, surgery2] = run.callsOf<ApplySurgeryInput>('applySurgery');
    const [tune1, tune2] = run.callsOf<FineTuneReplicaInput>('fineTuneReplica');
    const evaluated = run.callsOf<EvaluateShardInput>('evaluateShard').map((call) => call.modelArtifactId);

    assert.equal(stats1?.modelArtifactId, INPUT_MODEL);
    assert.equal(stats1?.jobId, 'round-loop/r1/s0');
    assert.deepEqual(merge1?.statsArtifactIds, [[`stats-${INPUT_MODEL}-0`]]);
    assert.equal(merge1?.seed, 6, 'round 1 scores with seed + 1');
    assert.equal(plan1?.scoresArtifactId, `scores-proscore-${INPUT_MODEL}`);
    assert.deepEqual([plan1?.round, plan1?.modelArtifactId, plan1?.removedArtifactId], [1, INPUT_MODEL, undefined]);
    assert.equal(surgery1?.planArtifactId, 'r1-proscore-0.4');
    assert.deepEqual([tune1?.startModelArtifactId, tune1?.firstStep, tune1?.seed], ['pruned-r1-proscore-0.4', 0, 5]);
    const round1Model = 'pruned-r1-proscore-0.4/tuned-s0-x0';
    const round2Model = 'pruned-r2-proscore-0.4/tuned-s3-x0';
    assert.deepEqual(evaluated, [INPUT_MODEL, round1Model, round2Model]);

    assert.equal(stats2?.modelArtifactId, round1Model, 'round 2 scores the model round 1 ended with');
    assert.equal(merge2?.seed, 7);
    assert.deepEqual([plan2?.round, plan2?.modelArtifactId, plan2?.removedArtifactId], [2, round1Model, 'removed-r1']);
    assert.equal(surgery2?.removedArtifactId, 'removed-r1');
    assert.deepEqual([tune2?.startModelArtifactId, tune2?.firstStep], ['pruned-r2-proscore-0.4', 3]);

    assert.equal(result.stoppedBecause, 'target-reached');
    assert.equal(result.resultRound, 2);
    assert.equal(result.modelArtifactId, round2Model);
    assert.deepEqual(result.history.map((round) => [round.round, round.top1, round.removedTotal]), [[1, 0.88, 2], [2, 0.87, 4]]);
    assert.equal(result.baseline.top1, 0.9);
    // The numeric path the pool named when the run started, carried through continue-as-new into the result.
    assert.deepEqual(result.numericPath, STUB_NUMERIC_PATH);
  });

  it('records no numeric path when the pool names the fingerprint alone, as older versions recorded it, yet stays pinned', async () => {
    const run = stubRun('fingerprint-only', { top1ByRound: [0.9, 0.88, 0.87], goalRound: 2, fingerprintOnly: true });
    const result = await (await start('fingerprint-only', input())).result();

    assert.equal(result.history.length, 2, 'both rounds ran (through continue-as-new)');
    assert.equal('numericPath' in result, false, 'no numeric path is made up from the fingerprint alone');
    const fingerprints = run.callsOf<EvaluateShardInput>('evaluateShard').map((call) => call.fingerprint);
    assert.deepEqual(fingerprints, [STUB_FINGERPRINT, STUB_FINGERPRINT, STUB_FINGERPRINT]);
  });

  it('stops when top-1 falls out of the accuracy budget; the result is the last round within it', async () => {
    const run = stubRun('budget', { top1ByRound: [0.9, 0.87, 0.8, 0.8] });
    const result = await (await start('budget', input({ maxAccuracyDrop: 0.05, plan: { target: { metric: 'flops', fraction: 0.6 }, rounds: 3 } }))).result();

    assert.equal(result.stoppedBecause, 'accuracy-budget');
    assert.equal(result.resultRound, 1);
    assert.equal(result.modelArtifactId, 'pruned-r1-proscore-0.6/tuned-s0-x0');
    assert.equal(result.removedArtifactId, 'removed-r1');
    assert.deepEqual(result.history.map((round) => round.top1), [0.87, 0.8], 'the round over budget is recorded');
    assert.equal(run.callsOf<PlanRoundInput>('planRound').length, 2, 'no round after the one over budget');
    assert.match(result.reason ?? '', /round 2: top-1 0.8 fell more than the allowed 0.05/);
  });

  it('continues as new after each round, carrying the state: the baseline is measured once', async () => {
    const run = stubRun('carry', { top1ByRound: [0.9, 0.89, 0.88, 0.87], goalRound: 3 });
    const handle = await start('carry', input({ plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 3 } }));
    const result = await handle.result();

    const first = await bench.client.workflow.getHandle('carry', handle.firstExecutionRunId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    const last = await bench.client.workflow.getHandle('carry').describe();
    assert.notEqual(last.runId, handle.firstExecutionRunId);
    assert.equal(last.status.name, 'COMPLETED');

    const merges = run.callsOf<MergeEvaluationsInput>('mergeEvaluations').map((call) => call.modelArtifactId);
    assert.deepEqual(merges, [INPUT_MODEL, 'pruned-r1-proscore-0.5/tuned-s0-x0', 'pruned-r2-proscore-0.5/tuned-s3-x0', 'pruned-r3-proscore-0.5/tuned-s6-x0'], 'one baseline, one evaluation per round');
    assert.deepEqual(run.callsOf<PlanRoundInput>('planRound').map((call) => call.removedArtifactId), [undefined, 'removed-r1', 'removed-r2']);
    assert.deepEqual(result.history.map((round) => round.round), [1, 2, 3]);
    assert.equal(result.baseline.top1, 0.9);
    assert.equal(result.stoppedBecause, 'target-reached');
  });

  it('answers the progress query, pauses at the next round boundary, resumes, and stops on cancel', async () => {
    const run = stubRun('signals', { top1ByRound: [0.9, 0.89, 0.88, 0.87], holdPlanRounds: [1, 2] });
    const handle = await start('signals', input({ plan: { target: { metric: 'flops', fraction: 0.5 }, rounds: 3 } }));

    await run.whenHeld(1);
    const planning = await handle.query(progressQuery);
    assert.deepEqual([planning.phase, planning.round, planning.rounds, planning.currentModelArtifactId], ['planning', 1, 3, INPUT_MODEL]);
    assert.equal(planning.baseline?.top1, 0.9);
    assert.deepEqual(planning.history, []);

    await handle.signal(pauseSignal);
    run.release(1);
    const paused = await until<PruneProgress>('the pause', () => handle.query(progressQuery), (progress) => progress.phase === 'paused');
    assert.deepEqual([paused.round, paused.paused, paused.history.length, paused.currentModelArtifactId], [2, true, 1, 'pruned-r1-proscore-0.5/tuned-s0-x0']);
    const callsWhilePaused = run.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(run.calls.length, callsWhilePaused, 'nothing runs while paused');

    await handle.signal(resumeSignal);
    await run.whenHeld(2);
    await handle.signal(cancelSignal);
    run.release(2);
    const result = await handle.result();
    assert.equal(result.stoppedBecause, 'cancelled');
    assert.equal(result.resultRound, 2, 'the round in progress when cancelled finishes');
    assert.equal(run.callsOf<PlanRoundInput>('planRound').length, 2, 'no round after the cancel');
  });

  it('cancels a paused run at its round boundary, with the last finished round as the result', async () => {
    const run = stubRun('cancel-paused', { top1ByRound: [0.9, 0.89, 0.88], holdPlanRounds: [1] });
    const handle = await start('cancel-paused', input());
    await run.whenHeld(1);
    await handle.signal(pauseSignal);
    run.release(1);
    await until<PruneProgress>('the pause', () => handle.query(progressQuery), (progress) => progress.phase === 'paused');
    await handle.signal(cancelSignal);
    const result = await handle.result();
    assert.deepEqual([result.stoppedBecause, result.resultRound, result.modelArtifactId], ['cancelled', 1, 'pruned-r1-proscore-0.4/tuned-s0-x0']);
    assert.equal(run.callsOf<PlanRoundInput>('planRound').length, 1);
  });

  it('refuses, inside the workflow and before any activity, counts above their limits that a client sent unchecked', async () => {
    const run = stubRun('above-limits', { top1ByRound: [0.9] });
    const handle = await start('above-limits', input({ plan: { target: { metric: 'flops', fraction: 0.4 }, rounds: 1_000_000 } }));
    await assert.rejects(handle.result(), (error: Error & { cause?: { message?: string; type?: string; nonRetryable?: boolean } }) => {
      assert.equal(error.cause?.type, 'InvalidArgument');
      assert.equal(error.cause?.nonRetryable, true);
      assert.match(error.cause?.message ?? '', /^plan\.rounds must be at most 100, got 1000000 \(the workflow's limit WORKFLOW_INPUT_LIMITS\.rounds in @ippro\/workflow-core raises it\)$/);
      return true;
    });
    assert.deepEqual(run.calls, [], 'no activity ran');
  });
});
