import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompareResult, CompareRow, ModelMeasure } from './compare-types';
import { summariseComparison } from './comparison-summary';
import { comparisonCsv, comparisonMarkdown, comparisonTableText } from './comparison-tables';
import { parseCriteriaList, parseFractionList } from './parse-lists';
import { resolveCompareSettings } from './compare-settings';

const HASH = 'a'.repeat(64);

function measureOf(top1: number, params: number, flops: number): ModelMeasure {
  return { modelArtifactId: HASH, params, flops, channels: 10, top1, loss: 1 - top1, evaluated: 100 };
}

function row(criterion: CompareRow['criterion'], target: number, top1: number, tunedTop1: number, seed?: number): CompareRow {
  return {
    criterion,
    ...(seed === undefined ? {} : { seed }),
    target,
    scoresArtifactId: HASH,
    planArtifactId: HASH,
    removedGroups: 4,
    reachedGoal: true,
    pruned: measureOf(top1, 600, 500),
    tuned: { ...measureOf(tunedTop1, 600, 500), fineTuneLoss: 0.5 },
  };
}

/** Two criteria at one target; random with three seeds. */
const result: CompareResult = {
  baseline: measureOf(0.8, 1000, 1000),
  metric: 'flops',
  criteria: ['l2', 'random'],
  targets: [0.5],
  randomSeeds: 3,
  fineTuneSteps: 10,
  scores: [],
  rows: [row('l2', 0.5, 0.6, 0.7), row('random', 0.5, 0.2, 0.5, 0), row('random', 0.5, 0.3, 0.6, 1), row('random', 0.5, 0.4, 0.7, 2)],
};

describe('comparison tables', () => {
  it('summarise runs by criterion and target: the mean, and the sample deviation over seeds', () => {
    const [l2, random] = summariseComparison(result);
    assert.deepEqual(l2?.top1Pruned, { mean: 0.6 });
    assert.equal(random?.runs, 3);
    assert.ok(Math.abs((random?.top1Pruned.mean ?? 0) - 0.3) < 1e-12);
    assert.ok(Math.abs((random?.top1Pruned.std ?? 0) - 0.1) < 1e-12, 'sample standard deviation of 0.2, 0.3, 0.4');
    assert.equal(random?.paramsKept, 0.6);
    assert.equal(random?.flopsKept, 0.5);
  });

  it('render the same numbers as text, markdown and CSV', () => {
    const text = comparisonTableText(result);
    assert.deepEqual(text.headers, ['criterion', 'flops removed', 'runs', 'params kept', 'FLOPs kept', 'top-1 pruned', 'top-1 after 10 steps']);
    assert.deepEqual(text.rows[0], ['input model', '-', '1', '100.00%', '100.00%', '80.00%', '-']);
    assert.deepEqual(text.rows[2], ['random', '50.00%', '3', '60.00%', '50.00%', '30.00% ± 10.00', '60.00% ± 10.00']);
    const markdown = comparisonMarkdown(result).split('\n');
    assert.equal(markdown[0], '| criterion | flops removed | runs | params kept | FLOPs kept | top-1 pruned | top-1 after 10 steps |');
    assert.equal(markdown[3], '| l2 | 50.00% | 1 | 60.00% | 50.00% | 60.00% | 70.00% |');
    const csv = comparisonCsv(result).trim().split('\n').map((line) => line.split(','));
    assert.equal(csv.length, 4);
    const header = csv[0] ?? [];
    const randomLine = csv[3] ?? [];
    assert.equal(randomLine[header.indexOf('criterion')], 'random');
    assert.equal(Number(randomLine[header.indexOf('top1_tuned')]), 0.6);
    assert.ok(Math.abs(Number(randomLine[header.indexOf('top1_pruned_std')]) - 0.1) < 1e-12);
    assert.equal(csv[2]?.[header.indexOf('top1_pruned_std')], '', 'one run has no deviation');
  });
});

describe('compare settings', () => {
  const input = {
    modelArtifactId: HASH,
    criteria: ['proscore' as const, 'l2' as const],
    targets: [0.3],
    scoring: { dataset: { spec: 'cifar10:train' }, batchSize: 64 },
    evaluation: { dataset: { spec: 'cifar10:test' }, batchSize: 250 },
    seed: 0,
  };

  it('fill in defaults', () => {
    assert.deepEqual(resolveCompareSettings(input), {
      metric: 'flops',
      randomSeeds: 1,
      fineTuneSteps: 0,
      batchShards: 1,
      layerShards: 1,
      evaluationShards: 1,
      maxParallel: 4,
    });
  });

  it('name the bad field', () => {
    assert.throws(() => resolveCompareSettings({ ...input, scoring: undefined }), /criteria proscore need scoring data/);
    assert.throws(() => resolveCompareSettings({ ...input, targets: [0.3, 1] }), /targets: 1 is not a fraction in \(0, 1\)/);
    assert.throws(() => resolveCompareSettings({ ...input, criteria: ['l2', 'l2'] }), /criteria lists a criterion twice/);
    assert.throws(() => resolveCompareSettings({ ...input, randomSeeds: 0 }), /randomSeeds must be a positive integer/);
    assert.throws(() => resolveCompareSettings({ ...input, modelArtifactId: 'x' }), /modelArtifactId must be a sha256/);
    assert.throws(() => resolveCompareSettings({ ...input, lambda: -1 }), /lambda must be a finite number > 0/);
  });

  it('bound every count from above, naming the limit and where it is raised', () => {
    const limit = (name: string, max: number): RegExp => new RegExp(`${name.replace('.', '\\.')} must be at most ${max}, got \\d+ \\(the workflow's limit WORKFLOW_INPUT_LIMITS\\.\\w+ in @ippro/workflow-core raises it\\)$`);
    assert.throws(() => resolveCompareSettings({ ...input, randomSeeds: 101 }), limit('randomSeeds', 100));
    assert.throws(() => resolveCompareSettings({ ...input, shards: { batchShards: 4097 } }), limit('shards.batchShards', 4096));
    assert.throws(() => resolveCompareSettings({ ...input, shards: { maxParallel: 1_000_000 } }), limit('shards.maxParallel', 1024));
    assert.throws(() => resolveCompareSettings({ ...input, evaluation: { ...input.evaluation, batchSize: 2 ** 20 } }), limit('evaluation.batchSize', 65536));
    assert.throws(() => resolveCompareSettings({ ...input, activity: { maximumAttempts: 1e6 } }), limit('activity.maximumAttempts', 100));
    const targets = Array.from({ length: 101 }, (_, index) => (index + 1) / 102);
    assert.throws(() => resolveCompareSettings({ ...input, targets }), limit('the number of targets', 100));
  });

  it('parse command-line lists', () => {
    assert.deepEqual(parseCriteriaList('proscore,l2,l1,taylor,bn,random'), ['proscore', 'l2', 'l1', 'taylor', 'bn', 'random']);
    assert.throws(() => parseCriteriaList('proscore,magnitude'), /unknown criterion 'magnitude'/);
    assert.throws(() => parseCriteriaList('l2,,l1'), /not a comma-separated list/);
    assert.deepEqual(parseFractionList('0.3,0.5,0.7', 'targets'), [0.3, 0.5, 0.7]);
    assert.throws(() => parseFractionList('0.3,1.5', '--target-flops'), /--target-flops: '1.5' is not a fraction/);
    assert.throws(() => parseFractionList('0.3,0.3', 'targets'), /names an entry twice/);
  });
});
