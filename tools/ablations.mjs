#!/usr/bin/env node
// Ablations of PROscore's reading (docs/ippro.md, "Results"): one-shot pruning of a trained model at
// FLOPs targets, no fine-tuning, judged on training images the scoring pass did not use. The test
// set is never looked at. One scoring pass per scoring configuration; every criterion and option
// that only changes how scores are read (lambda, ranking, reversed order) reuses its statistics.
//
// Usage: node tools/ablations.mjs [--model DIR] [--data-dir DIR] [--scoring SPEC] [--heldout SPEC]
//        [--targets 0.3,0.5,0.7] [--studies lambda,bn,bias,injection,ranking,stability] [--random-seeds 5]
//        [--backend tensorflow] [--out PREFIX]        (writes PREFIX.md and PREFIX.json)
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const { initRuntime, parseBackendRequest } = require('@ippro/runtime');
const { resolveDataset, batchCount } = require('@ippro/data');
const { loadLayersModelFromDir, buildChannelGraph, modelCost } = require('@ippro/graph');
const importance = require('@ippro/importance');
const { planRemoval } = require('@ippro/planner');
const { removeGroups } = require('@ippro/surgery');
const { evaluateDataset } = require('@ippro/models');
const { datasetBatches } = require('@ippro/pruning');

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'models', 'small-cifar10') },
    'data-dir': { type: 'string', default: join(root, '..', 'shared', 'datasets', 'cifar10') },
    scoring: { type: 'string', default: 'cifar10:train[0:2560]' },
    heldout: { type: 'string', default: 'cifar10:train[45000:50000]' },
    targets: { type: 'string', default: '0.3,0.5,0.7' },
    studies: { type: 'string', default: 'lambda,bn,bias,injection,ranking,stability' },
    'second-scoring': { type: 'string', default: 'cifar10:train[2560:5120]' },
    'random-seeds': { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '128' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string', default: join(root, 'bench-results', 'ablations') },
  },
});
const targets = values.targets.split(',').map(Number);
const studies = new Set(values.studies.split(','));
const randomSeeds = Number(values['random-seeds']);
const batchSize = Number(values['batch-size']);
const LAMBDAS = [0.001, 0.01, 0.1, 1, 10];
const DEFAULT_SCORING = { batchNormMode: 'inference', includeBias: false, injectionPoint: 'element-wise' };

/** One scoring pass: the model's gradient statistics over the scoring set with these options. */
async function scoringPass(model, graph, data, options, datasetId = values.scoring) {
  const started = Date.now();
  const range = { start: 0, end: batchCount(data, batchSize) };
  // datasetBatches disposes each batch when the next is asked for: one batch in memory at a time.
  const lazy = (function* () {
    for (const batch of datasetBatches(data, range, { batchSize })) yield { inputs: batch.x, labels: batch.y };
  })();
  const stats = await importance.accumulateGradStats(model, graph, lazy, {
    datasetId,
    batchNormMode: options.batchNormMode,
    includeBias: options.includeBias,
    injectionPoint: options.injectionPoint,
  });
  const weights = importance.groupWeights(model, graph, { includeBias: options.includeBias });
  return { stats, weights, seconds: (Date.now() - started) / 1000 };
}

function scoresOf(table, sign = 1) {
  return new Map(table.rows.map((row) => [row.id, sign * row.score]));
}

/** One-shot: plan one round to the target, remove, evaluate on the held-out slice. */
async function oneShot(context, scores, target, ranking) {
  const plan = planRemoval({ graph: context.graph, scores, target: { metric: 'flops', fraction: target }, round: 1, rounds: 1, ranking });
  const pruned = removeGroups(context.model, context.graph, plan.groupIds);
  try {
    const cost = modelCost(buildChannelGraph(pruned));
    const sums = await evaluateDataset(pruned, context.heldout, { batchSize: 500 });
    return { target, top1: sums.correct / sums.count, loss: sums.lossSum / sums.count, flopsKept: cost.macs / context.baseline.flops };
  } finally {
    pruned.dispose();
  }
}

async function evaluateVariant(context, study, name, settings, scores, ranking = 'global') {
  const results = [];
  for (const target of targets) results.push(await oneShot(context, scores, target, ranking));
  const row = { study, variant: name, ...settings, ranking, results };
  console.log(`${study.padEnd(9)} ${name.padEnd(34)} ${results.map((r) => `${(r.top1 * 100).toFixed(2).padStart(6)}%`).join(' ')}`);
  return row;
}

/** Ranks (0 = lowest), ties in input order: the planner's order for equal scores. */
function ranks(values) {
  const order = values.map((value, index) => [value, index]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const rank = new Array(values.length);
  order.forEach(([, index], position) => (rank[index] = position));
  return rank;
}

/** Spearman's rank correlation of two score lists over the same groups. */
function spearman(a, b) {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const sum = ra.reduce((total, rank, index) => total + (rank - rb[index]) ** 2, 0);
  return 1 - (6 * sum) / (n * (n * n - 1));
}

function scoreList(table) {
  return table.rows.map((row) => row.score);
}

/**
 * How much of each gradient score is signal: its rank correlation between two disjoint scoring
 * sets of the same size, and between criteria on the first set.
 */
async function stabilityStudy(context, model, graph) {
  const second = await scoringPass(model, graph, await resolveDataset(values['second-scoring'], { cifar10Dir: values['data-dir'] }), DEFAULT_SCORING, values['second-scoring']);
  const base = context.base;
  const tables = (pass) => ({
    'proscore lambda=1': importance.proscoreFromStats(pass.stats, pass.weights, { lambda: 1 }),
    'proscore lambda=0.001': importance.proscoreFromStats(pass.stats, pass.weights, { lambda: 0.001 }),
    taylor: importance.taylorScores(pass.stats, pass.weights),
  });
  const first = tables(base);
  const other = tables(second);
  const acrossSets = Object.keys(first).map((name) => ({ score: name, spearman: spearman(scoreList(first[name]), scoreList(other[name])) }));
  const references = {
    l2: importance.l2Scores(base.weights),
    bn: importance.batchNormScaleScores(base.weights),
    taylor: first.taylor,
  };
  const againstOthers = [];
  for (const [name, table] of Object.entries(first)) {
    for (const [reference, other] of Object.entries(references)) {
      if (name !== reference) againstOthers.push({ score: name, reference, spearman: spearman(scoreList(table), scoreList(other)) });
    }
  }
  againstOthers.push({ score: 'l2', reference: 'bn', spearman: spearman(scoreList(references.l2), scoreList(references.bn)) });
  for (const row of acrossSets) console.log(`stability ${row.score.padEnd(24)} rank correlation between ${values.scoring} and ${values['second-scoring']}: ${row.spearman.toFixed(3)}`);
  for (const row of againstOthers) console.log(`agreement ${row.score.padEnd(24)} vs ${row.reference.padEnd(8)} ${row.spearman.toFixed(3)}`);
  return { secondScoring: values['second-scoring'], acrossSets, againstOthers, seconds: second.seconds };
}

function meanStd(values) {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

async function randomRow(context, ranking) {
  const perSeed = [];
  for (let seed = 0; seed < randomSeeds; seed += 1) {
    const scores = scoresOf(importance.randomScores(context.base.weights, seed));
    const run = [];
    for (const target of targets) run.push(await oneShot(context, scores, target, ranking));
    perSeed.push(run);
  }
  const results = targets.map((target, index) => {
    const top1 = meanStd(perSeed.map((run) => run[index].top1));
    return { target, top1: top1.mean, top1Std: top1.std, loss: meanStd(perSeed.map((run) => run[index].loss)).mean, flopsKept: meanStd(perSeed.map((run) => run[index].flopsKept)).mean };
  });
  console.log(`reference random (${randomSeeds} seeds, ${ranking})`.padEnd(44) + results.map((r) => `${(r.top1 * 100).toFixed(2).padStart(6)}%±${(r.top1Std * 100).toFixed(1)}`).join(' '));
  return { study: 'reference', variant: `random (mean of ${randomSeeds} seeds)`, ranking, results };
}

async function main() {
  await initRuntime({ backend: parseBackendRequest(values.backend), report: (line) => console.error(line) });
  const model = await loadLayersModelFromDir(values.model);
  const graph = buildChannelGraph(model);
  const cifar = { cifar10Dir: values['data-dir'] };
  const scoringData = await resolveDataset(values.scoring, cifar);
  const heldout = await resolveDataset(values.heldout, cifar);
  const input = await evaluateDataset(model, heldout, { batchSize: 500 });
  const baseline = { top1: input.correct / input.count, loss: input.lossSum / input.count, flops: modelCost(graph).macs };
  console.log(`input model on ${values.heldout}: top-1 ${(baseline.top1 * 100).toFixed(2)}%; targets (FLOPs removed) ${targets.join(', ')}`);
  const context = { model, graph, heldout, baseline, base: await scoringPass(model, graph, scoringData, DEFAULT_SCORING) };
  const passes = [{ ...DEFAULT_SCORING, seconds: context.base.seconds }];
  const rows = [];
  const proscore = (pass, lambda) => scoresOf(importance.proscoreFromStats(pass.stats, pass.weights, { lambda }));
  const taylor = (pass) => scoresOf(importance.taylorScores(pass.stats, pass.weights));

  rows.push(await evaluateVariant(context, 'reference', 'l2', {}, scoresOf(importance.l2Scores(context.base.weights))));
  rows.push(await evaluateVariant(context, 'reference', 'l1', {}, scoresOf(importance.l1Scores(context.base.weights))));
  rows.push(await evaluateVariant(context, 'reference', 'bn', {}, scoresOf(importance.batchNormScaleScores(context.base.weights))));
  rows.push(await evaluateVariant(context, 'reference', 'taylor', DEFAULT_SCORING, taylor(context.base)));
  rows.push(await randomRow(context, 'global'));
  rows.push(await evaluateVariant(context, 'default', 'proscore lambda=1', { ...DEFAULT_SCORING, lambda: 1 }, proscore(context.base, 1)));
  rows.push(await evaluateVariant(context, 'default', 'proscore lambda=1, highest removed first', { ...DEFAULT_SCORING, lambda: 1 }, scoresOf(importance.proscoreFromStats(context.base.stats, context.base.weights, { lambda: 1 }), -1)));

  if (studies.has('lambda')) {
    for (const lambda of LAMBDAS.filter((value) => value !== 1)) {
      rows.push(await evaluateVariant(context, 'lambda', `proscore lambda=${lambda}`, { ...DEFAULT_SCORING, lambda }, proscore(context.base, lambda)));
    }
  }
  const alternatives = [
    ['bn', { batchNormMode: 'batch' }, 'batch-norm batch statistics'],
    ['bias', { includeBias: true }, 'biases in F'],
    ['injection', { injectionPoint: 'producer' }, 'scale at the producer (before BN)'],
  ];
  for (const [study, change, label] of alternatives) {
    if (!studies.has(study)) continue;
    const settings = { ...DEFAULT_SCORING, ...change };
    const pass = await scoringPass(model, graph, scoringData, settings);
    passes.push({ ...settings, seconds: pass.seconds });
    for (const lambda of [1, 0.001]) {
      rows.push(await evaluateVariant(context, study, `proscore lambda=${lambda}, ${label}`, { ...settings, lambda }, proscore(pass, lambda)));
    }
    rows.push(await evaluateVariant(context, study, `taylor, ${label}`, settings, taylor(pass)));
  }
  if (studies.has('ranking')) {
    rows.push(await evaluateVariant(context, 'ranking', 'proscore lambda=1, per-layer uniform', { ...DEFAULT_SCORING, lambda: 1 }, proscore(context.base, 1), 'uniform'));
    rows.push(await evaluateVariant(context, 'ranking', 'l2, per-layer uniform', {}, scoresOf(importance.l2Scores(context.base.weights)), 'uniform'));
    rows.push(await evaluateVariant(context, 'ranking', 'taylor, per-layer uniform', DEFAULT_SCORING, taylor(context.base), 'uniform'));
    rows.push(await randomRow(context, 'uniform'));
  }

  const stability = studies.has('stability') ? await stabilityStudy(context, model, graph) : undefined;
  const document = {
    model: relative(root, values.model) || values.model,
    scoring: values.scoring,
    heldout: values.heldout,
    targets,
    baseline,
    scoringPasses: passes,
    rows,
    ...(stability === undefined ? {} : { stability }),
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(`${values.out}.json`, `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(`${values.out}.md`, markdown(document));
  console.log(`written: ${values.out}.md, ${values.out}.json`);
}

function percent(value) {
  return `${(value * 100).toFixed(2)}%`;
}

function stabilityMarkdown(document) {
  const stability = document.stability;
  if (stability === undefined) return [];
  return [
    `## How much of each score is signal`,
    '',
    `Spearman rank correlation of each group score between two disjoint scoring sets of the same size ` +
      `(\`${document.scoring}\` and \`${stability.secondScoring}\`): 1 means the ranking is a property of the model, ` +
      `0 means it is sampling noise.`,
    '',
    '| score | rank correlation across scoring sets |',
    '| --- | --- |',
    ...stability.acrossSets.map((row) => `| ${row.score} | ${row.spearman.toFixed(3)} |`),
    '',
    'Rank correlation between criteria on the first scoring set:',
    '',
    '| score | against | rank correlation |',
    '| --- | --- | --- |',
    ...stability.againstOthers.map((row) => `| ${row.score} | ${row.reference} | ${row.spearman.toFixed(3)} |`),
    '',
  ];
}

function markdown(document) {
  const header = `| study | variant | ranking | ${document.targets.map((t) => `top-1 at ${Math.round(t * 100)}% FLOPs removed`).join(' | ')} |`;
  const rule = `| --- | --- | --- | ${document.targets.map(() => '---').join(' | ')} |`;
  const lines = document.rows.map((row) => {
    const cells = row.results.map((result) => (result.top1Std === undefined ? percent(result.top1) : `${percent(result.top1)} ± ${(result.top1Std * 100).toFixed(2)}`));
    return `| ${row.study} | ${row.variant} | ${row.ranking} | ${cells.join(' | ')} |`;
  });
  const passes = document.scoringPasses.map((pass) => `batch norm ${pass.batchNormMode}, bias ${pass.includeBias ? 'in F' : 'excluded'}, injection ${pass.injectionPoint}: ${pass.seconds.toFixed(1)} s`);
  return [
    `# Ablations on ${document.model}`,
    '',
    `One-shot pruning (one round, no fine-tuning) to each FLOPs target; scored on \`${document.scoring}\`; ` +
      `judged on \`${document.heldout}\` (training images the scoring pass did not use; the test set plays no part). ` +
      `Input model on those images: ${percent(document.baseline.top1)} top-1. Generated by \`node tools/ablations.mjs\`.`,
    '',
    header,
    rule,
    ...lines,
    '',
    `Scoring passes: ${passes.join('; ')}.`,
    '',
    ...stabilityMarkdown(document),
  ].join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
