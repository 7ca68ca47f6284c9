import { mapBounded, outputOf, recalibrateBatchNorm, roundDecay, teacherOf } from '@ippro/workflow-core';
import type { BatchRangeRef, EvaluationConfig, MergeAndScoreOutput, PruneActivities, RunNumericPath, ScoringConfig } from '@ippro/workflow-core';
import { criterionVariants, resolveCompareSettings } from './compare-settings';
import type { CompareSettings } from './compare-settings';
import type { CompareInput, CompareProgress, CompareResult, CompareRow, CriterionScores, Evaluation, ModelMeasure } from './compare-types';
import { readsScoringPass, variantReading } from './criterion-variants';
import type { CriterionVariant } from './criterion-variants';

/**
 * Where the comparison runs: the compare workflow (activities are proxies) or this process
 * (activities are the functions themselves). Both make the same calls in the same order.
 */
export interface CompareHost {
  activities: PruneActivities;
  /** Prefix of the job ids given to compute calls (the workflow id); logs only. */
  jobPrefix: string;
  report(progress: CompareProgress): void;
  /** The numeric path the activities are pinned to (recorded in the result); absent: not known in full. */
  numericPath?: RunNumericPath;
}

/** The evaluation shards of one data set. */
interface EvaluationSet {
  config: EvaluationConfig;
  shards: BatchRangeRef[];
}

/** What every pruned model of the comparison shares. */
interface Context {
  input: CompareInput;
  settings: CompareSettings;
  host: CompareHost;
  evaluation: EvaluationSet;
  test?: EvaluationSet;
}

/** One run of a criterion: the seed of its draw, fine-tuning and recalibration, the random criterion's seed, and its scoring data. */
interface Run {
  /** Which of `seeds` runs; undefined without `seeds`. */
  index?: number;
  seed: number;
  randomSeed: number;
  scoring?: ScoringConfig;
}

/** Top-1 and loss of a model on one set: its shards evaluated, the exact sums merged in shard order. */
async function evaluateOn(context: Context, set: EvaluationSet, modelArtifactId: string, jobId: string): Promise<Evaluation & Omit<ModelMeasure, 'test'>> {
  const { activities } = context.host;
  const parts = await mapBounded(set.shards, context.settings.maxParallel, (batches, index) =>
    activities.evaluateShard({ jobId: `${jobId}/eval${index}`, modelArtifactId, evaluation: set.config, batches, ...outputOf(context.input) }),
  );
  return { modelArtifactId, ...(await activities.mergeEvaluations({ modelArtifactId, parts })) };
}

/** A model on the evaluation data, and on the test data when there is one. */
async function measure(context: Context, modelArtifactId: string, jobId: string): Promise<ModelMeasure> {
  const measured = await evaluateOn(context, context.evaluation, modelArtifactId, jobId);
  if (context.test === undefined) return measured;
  const { top1, loss, evaluated } = await evaluateOn(context, context.test, modelArtifactId, `${jobId}/test`);
  return { ...measured, test: { top1, loss, evaluated } };
}

/** The scoring data of every run: `scoringSamples` samples drawn by the run's seed, or the whole scoring data. */
function scoringOf(input: CompareInput, seed: number): ScoringConfig | undefined {
  const { scoring, scoringSamples } = input;
  if (scoring === undefined || scoringSamples === undefined) return scoring;
  return { ...scoring, dataset: { ...scoring.dataset, draw: { size: scoringSamples, seed } } };
}

/**
 * The runs of a criterion. With `seeds`: run k of every criterion uses seed + k (random:
 * seed + 1 + k). Without: one run with `seed` (random: one per randomSeeds, seeded seed + 1 + run,
 * as a one-round `prune` seeds round 1 with seed + 1).
 */
function runsOf(input: CompareInput, settings: CompareSettings, variant: CriterionVariant): Run[] {
  if (input.seeds !== undefined) {
    return Array.from({ length: input.seeds }, (_, index) => withScoring(input, { index, seed: input.seed + index, randomSeed: input.seed + 1 + index }));
  }
  const runs = variant.criterion === 'random' ? settings.randomSeeds : 1;
  return Array.from({ length: runs }, (_, run) => withScoring(input, { seed: input.seed, randomSeed: input.seed + 1 + run }));
}

function withScoring(input: CompareInput, run: Run): Run {
  const scoring = scoringOf(input, run.seed);
  return scoring === undefined ? run : { ...run, scoring };
}

/** Promises kept by key, so that work shared by several runs (a scoring pass, a pruned model) is done once. */
class Once<T> {
  private readonly made = new Map<string, Promise<T>>();

  get(key: string, make: () => Promise<T>): Promise<T> {
    const known = this.made.get(key);
    if (known !== undefined) return known;
    const made = make();
    this.made.set(key, made);
    return made;
  }
}

/**
 * One scoring pass of the input model over `scoring`: its shards' statistics, grouped by layer
 * shard in merge order. Every gradient criterion of the runs on that data reads these artifacts.
 */
async function scoringPass(context: Context, variant: CriterionVariant, scoring: ScoringConfig, pass: number, progress: CompareProgress): Promise<string[][]> {
  const { input, settings, host } = context;
  const plan = await host.activities.planScoringShards({
    modelArtifactId: input.modelArtifactId,
    criterion: variant.criterion,
    scoring,
    batchShards: settings.batchShards,
    layerShards: settings.layerShards,
  });
  const planId = plan.shardPlanArtifactId;
  if (planId === undefined) throw new Error('the scoring shard plan has no shard plan artifact');
  const report = (done: number, total: number): void => host.report({ ...progress, phase: 'scoring', done, total });
  report(0, plan.shards.length);
  const jobPrefix = `${host.jobPrefix}/score${pass === 0 ? '' : pass}`;
  const stats = await mapBounded(
    plan.shards,
    settings.maxParallel,
    (shard) => host.activities.computeGradStats({ jobId: `${jobPrefix}/s${shard.index}`, modelArtifactId: input.modelArtifactId, scoring, shardPlanArtifactId: planId, shard, ...outputOf(input) }),
    report,
  );
  const byLayerShard: string[][] = [];
  plan.shards.forEach((shard, index) => (byLayerShard[shard.layerShard] ??= []).push((stats[index] as { statsArtifactId: string }).statsArtifactId));
  return byLayerShard.filter((ids) => ids !== undefined);
}

/** A criterion's scores in one run, with what they were computed from. */
interface ScoredRun {
  variant: CriterionVariant;
  run: Run;
  scores: CriterionScores;
}

/** The pruned model of one plan, shared by every run whose scores are the same. */
interface Pruned {
  planArtifactId: string;
  removedGroups: number;
  reachedGoal: boolean;
  pruned: ModelMeasure;
}

function targetLabel(target: number): string {
  return String(Math.round(target * 1000));
}

/** Plans one round to the target from the scores, removes, evaluates. */
async function pruneTo(context: Context, scoresArtifactId: string, target: number, jobId: string): Promise<Pruned> {
  const { input, settings } = context;
  const { activities } = context.host;
  const plan = await activities.planRound({
    originalModelArtifactId: input.modelArtifactId,
    modelArtifactId: input.modelArtifactId,
    scoresArtifactId,
    plan: { ...input.plan, target: { metric: settings.metric, fraction: target }, rounds: 1 },
    round: 1,
  });
  let prunedId = input.modelArtifactId;
  if (plan.groupsThisRound > 0) {
    const surgery = await activities.applySurgery({ originalModelArtifactId: input.modelArtifactId, modelArtifactId: input.modelArtifactId, planArtifactId: plan.planArtifactId });
    prunedId = surgery.modelArtifactId;
  }
  return { planArtifactId: plan.planArtifactId, removedGroups: plan.groupsThisRound, reachedGoal: plan.reachedGoal, pruned: await measure(context, prunedId, jobId) };
}

/** One run of one criterion at one target: the pruned model, then recalibration and fine-tuning from it, each measured. */
async function oneShot(context: Context, scored: ScoredRun, pruned: Pruned, target: number, jobId: string): Promise<CompareRow> {
  const { input, settings } = context;
  const { activities } = context.host;
  const { scores, run } = scored;
  const row: CompareRow = {
    criterion: scores.criterion,
    ...(run.index === undefined ? {} : { run: run.index }),
    ...(scores.seed === undefined ? {} : { seed: scores.seed }),
    target,
    scoresArtifactId: scores.scoresArtifactId,
    ...pruned,
  };
  let modelArtifactId = pruned.pruned.modelArtifactId;
  if (input.recalibration !== undefined) {
    modelArtifactId = await recalibrateBatchNorm(activities, modelArtifactId, input.recalibration, {
      shards: settings.batchShards,
      maxParallel: settings.maxParallel,
      seed: run.seed,
      jobId: `${jobId}/recalibrate`,
      ...outputOf(input),
    });
    row.recalibrated = await measure(context, modelArtifactId, `${jobId}/recalibrated`);
  }
  const tune = input.fineTune;
  if (tune === undefined || settings.fineTuneSteps === 0) return row;
  const tuned = await activities.fineTuneReplica({
    jobId: `${jobId}/tune`,
    startModelArtifactId: modelArtifactId,
    fineTune: { ...tune, replicas: 1, repetitions: 1 },
    replica: { index: 0, count: 1 },
    firstStep: 0,
    ...roundDecay(tune, 1, { repetitions: 1, steps: settings.fineTuneSteps }),
    seed: run.seed,
    ...teacherOf(tune, input.modelArtifactId),
    ...outputOf(input),
  });
  const after = await measure(context, tuned.modelArtifactId, `${jobId}/tuned`);
  return { ...row, tuned: { ...after, fineTuneLoss: tuned.sampleCount === 0 ? 0 : tuned.lossSum / tuned.sampleCount } };
}

/**
 * Every criterion at every target, one-shot, on the input model (CompareInput). Each distinct
 * scoring data (one, or one draw per run) is scored once and read by every gradient criterion;
 * magnitude, batch-norm scale and random read only the weights; the trajectory reading takes its
 * own steps. A pruned model that several runs share (a weight-only criterion's) is made and
 * measured once. Rows come back in input order whatever order the parallel work finishes in, so
 * the result is deterministic.
 */
export async function runComparison(input: CompareInput, host: CompareHost): Promise<CompareResult> {
  const settings = resolveCompareSettings(input);
  const scoredRuns = criterionVariants(input.criteria).flatMap((variant) => runsOf(input, settings, variant).map((run) => ({ variant, run })));
  const progress: CompareProgress = { phase: 'baseline', done: 0, total: 1, rowsDone: 0, rowsTotal: scoredRuns.length * input.targets.length };
  host.report(progress);
  const planShards = async (config: EvaluationConfig): Promise<EvaluationSet> => ({
    config,
    shards: (await host.activities.planEvaluationShards({ evaluation: config, shards: settings.evaluationShards })).shards,
  });
  const context: Context = { input, settings, host, evaluation: await planShards(input.evaluation), ...(input.test === undefined ? {} : { test: await planShards(input.test) }) };
  const baseline = await measure(context, input.modelArtifactId, `${host.jobPrefix}/baseline`);

  // Scoring passes first, one per distinct scoring data, in run order.
  const passes = new Map<string, string[][]>();
  for (const { variant, run } of scoredRuns) {
    if (!readsScoringPass(variant, input.proscore) || run.scoring === undefined) continue;
    const key = JSON.stringify(run.scoring.dataset);
    if (!passes.has(key)) passes.set(key, await scoringPass(context, variant, run.scoring, passes.size, progress));
  }

  host.report({ ...progress, phase: 'merging', done: 0, total: scoredRuns.length });
  const scored: ScoredRun[] = [];
  const merged = new Once<MergeAndScoreOutput>();
  let meanLoss: number | undefined;
  for (const { variant, run } of scoredRuns) {
    const proscore = variantReading(variant, input.proscore);
    const common = { modelArtifactId: input.modelArtifactId, ...(input.lambda === undefined ? {} : { lambda: input.lambda }) };
    let output: MergeAndScoreOutput;
    if (proscore?.reading === 'trajectory' && run.scoring !== undefined) {
      const scoring = run.scoring;
      output = await merged.get(`${variant.label} ${JSON.stringify(scoring.dataset)}`, () =>
        host.activities.scoreTrajectory({ jobId: `${host.jobPrefix}/${variant.label}${run.index === undefined ? '' : `/k${run.index}`}/trajectory`, ...common, scoring, proscore, ...outputOf(input) }),
      );
    } else {
      // A weight-only criterion's scores do not depend on the run's scoring data (only on whether F holds biases).
      const readsPass = readsScoringPass(variant, input.proscore);
      const scoring = readsPass ? run.scoring : input.scoring;
      const stats = readsPass && scoring !== undefined ? passes.get(JSON.stringify(scoring.dataset)) : undefined;
      const seed = variant.criterion === 'random' ? run.randomSeed : input.seed + 1;
      output = await merged.get(`${variant.label} ${seed} ${JSON.stringify(scoring?.dataset ?? null)}`, () =>
        host.activities.mergeAndScore({
          ...common,
          criterion: variant.criterion,
          ...(proscore === undefined ? {} : { proscore }),
          seed,
          ...(scoring === undefined ? {} : { scoring }),
          statsArtifactIds: stats ?? [],
        }),
      );
      if (stats !== undefined) meanLoss ??= output.meanLoss;
    }
    scored.push({
      variant,
      run,
      scores: {
        criterion: variant.label,
        ...(run.index === undefined ? {} : { run: run.index }),
        ...(variant.criterion === 'random' ? { seed: run.randomSeed } : {}),
        scoresArtifactId: output.scoresArtifactId,
      },
    });
    host.report({ ...progress, phase: 'merging', done: scored.length, total: scoredRuns.length });
  }

  const prunedModels = new Once<Pruned>();
  const jobs = scored.flatMap((entry) => input.targets.map((target) => ({ entry, target })));
  const rows = await mapBounded(
    jobs,
    settings.maxParallel,
    async ({ entry, target }) => {
      const { scores, run } = entry;
      const seedPart = scores.seed === undefined || run.index !== undefined ? '' : `-${scores.seed}`;
      const jobId = `${host.jobPrefix}/${scores.criterion}${seedPart}${run.index === undefined ? '' : `/k${run.index}`}/t${targetLabel(target)}`;
      const pruned = await prunedModels.get(`${scores.scoresArtifactId} ${target}`, () => pruneTo(context, scores.scoresArtifactId, target, jobId));
      return oneShot(context, entry, pruned, target, jobId);
    },
    (done, total) => host.report({ ...progress, phase: 'pruning', done, total, rowsDone: done }),
  );
  host.report({ ...progress, phase: 'done', done: rows.length, total: rows.length, rowsDone: rows.length });
  const firstPass = passes.values().next().value;
  return {
    ...outputOf(input),
    baseline,
    metric: settings.metric,
    criteria: [...input.criteria],
    targets: [...input.targets],
    randomSeeds: settings.randomSeeds,
    ...(input.seeds === undefined ? {} : { seeds: input.seeds }),
    fineTuneSteps: settings.fineTuneSteps,
    ...(input.recalibration === undefined ? {} : { recalibrationBatches: input.recalibration.batches }),
    ...(firstPass === undefined ? {} : { scoring: { passes: passes.size, statsArtifactIds: firstPass, ...(meanLoss === undefined ? {} : { meanLoss }) } }),
    scores: scored.map((entry) => entry.scores),
    rows,
    ...(host.numericPath === undefined ? {} : { numericPath: host.numericPath }),
  };
}
