import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CompareInput } from '@ippro/compare';
import type {
  ApplySurgeryInput,
  ComputeGradStatsInput,
  EvaluateShardInput,
  FineTuneReplicaInput,
  MergeAndScoreInput,
  PlanEvaluationShardsInput,
  PlanRoundInput,
} from '@ippro/workflow-core';
import { compareCriteria, compareProgressQuery } from './index';
import { SAMPLES_PER_SHARD, STUB_FINGERPRINT, STUB_NUMERIC_PATH, StubRun } from './testing/stub-activities';
import { startWorkflowTestBench } from './testing/workflow-worker';
import type { WorkflowTestBench } from './testing/workflow-worker';

const INPUT_MODEL = 'b'.repeat(64);

let bench: WorkflowTestBench;

before(async () => {
  bench = await startWorkflowTestBench('workflows-compare-test');
});

after(async () => {
  await bench?.stop();
});

const sorted = (values: readonly string[]): string[] => [...values].sort();

describe('compareCriteria on stub activities', () => {
  it('scores once, then prunes every criterion at every target, evaluating each model before and after fine-tuning', async () => {
    const run = new StubRun(INPUT_MODEL, { top1ByRound: [0.9, 0.8] });
    bench.runs.set('compare', run);
    const input: CompareInput = {
      modelArtifactId: INPUT_MODEL,
      criteria: ['l1', 'proscore'],
      targets: [0.25, 0.5],
      scoring: { dataset: { spec: 'synthetic:cifar?n=8' }, batchSize: 4 },
      fineTune: { dataset: { spec: 'synthetic:cifar?n=8' }, batchSize: 4, steps: 2, learningRate: 0.1 },
      evaluation: { dataset: { spec: 'synthetic:cifar?n=8' }, batchSize: 4 },
      shards: { batchShards: 2, layerShards: 2, evaluationShards: 2, maxParallel: 3 },
      seed: 3,
    };
    const handle = await bench.client.workflow.start(compareCriteria, { args: [input], taskQueue: bench.taskQueue, workflowId: 'compare' });
    const result = await handle.result();

    assert.deepEqual(run.callsOf<PlanEvaluationShardsInput>('planEvaluationShards').map((call) => call.shards), [2], 'the evaluation shards are planned once');
    assert.equal(run.callsOf('planScoringShards').length, 1, 'one scoring pass for every criterion');
    const stats = run.callsOf<ComputeGradStatsInput>('computeGradStats');
    assert.deepEqual(sorted(stats.map((call) => call.jobId)), ['compare/score/s0', 'compare/score/s1', 'compare/score/s2', 'compare/score/s3']);
    assert.ok(stats.every((call) => call.modelArtifactId === INPUT_MODEL));

    const merges = run.callsOf<MergeAndScoreInput>('mergeAndScore');
    assert.deepEqual(merges.map((call) => [call.criterion, call.statsArtifactIds]), [
      ['l1', []],
      ['proscore', [[`stats-${INPUT_MODEL}-0`, `stats-${INPUT_MODEL}-1`], [`stats-${INPUT_MODEL}-2`, `stats-${INPUT_MODEL}-3`]]],
    ]);

    const oneShots = ['l1-0.25', 'l1-0.5', 'proscore-0.25', 'proscore-0.5'];
    const plans = run.callsOf<PlanRoundInput>('planRound');
    assert.deepEqual(sorted(plans.map((call) => `${call.scoresArtifactId.split('-')[1]}-${call.plan.target.fraction}`)), oneShots);
    assert.ok(plans.every((call) => call.round === 1 && call.plan.rounds === 1 && call.modelArtifactId === INPUT_MODEL && call.plan.target.metric === 'flops'));
    assert.deepEqual(sorted(run.callsOf<ApplySurgeryInput>('applySurgery').map((call) => call.planArtifactId)), oneShots.map((shot) => `r1-${shot}`));
    const tunes = run.callsOf<FineTuneReplicaInput>('fineTuneReplica');
    assert.deepEqual(sorted(tunes.map((call) => call.startModelArtifactId)), oneShots.map((shot) => `pruned-r1-${shot}`));
    assert.ok(tunes.every((call) => call.replica.count === 1 && call.firstStep === 0 && call.seed === 3));

    const evaluations = run.callsOf<EvaluateShardInput>('evaluateShard');
    assert.equal(evaluations.length, 2 * (1 + oneShots.length * 2), 'two shards for the baseline and for each model before and after fine-tuning');

    assert.deepEqual(result.rows.map((row) => `${row.criterion}-${row.target}`), oneShots, 'rows in input order');
    for (const row of result.rows) {
      assert.equal(row.pruned.modelArtifactId, `pruned-r1-${row.criterion}-${row.target}`);
      assert.equal(row.tuned?.modelArtifactId, `pruned-r1-${row.criterion}-${row.target}/tuned-s0-x0`);
      assert.equal(row.pruned.top1, 0.8);
      assert.equal(row.pruned.evaluated, 2 * SAMPLES_PER_SHARD);
    }
    assert.equal(result.baseline.top1, 0.9);
    assert.deepEqual(result.numericPath, STUB_NUMERIC_PATH, 'the result names the numeric path the pool answered with');
    assert.ok(evaluations.every((call) => call.fingerprint === STUB_FINGERPRINT), 'every evaluation is pinned to it');
    assert.deepEqual(result.scoring?.statsArtifactIds, merges[1]?.statsArtifactIds);

    const progress = await handle.query(compareProgressQuery);
    assert.deepEqual([progress.phase, progress.rowsDone, progress.rowsTotal], ['done', 4, 4]);
  });
});
