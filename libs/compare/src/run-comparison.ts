import { mapBounded, outputOf } from '@ippro/workflow-core';
import type { BatchRangeRef, CriterionName, PruneActivities } from '@ippro/workflow-core';
import { needsScoringPass, resolveCompareSettings } from './compare-settings';
import type { CompareSettings } from './compare-settings';
import type { CompareInput, CompareProgress, CompareResult, CompareRow, CriterionScores, ModelMeasure } from './compare-types';

/**
 * Where the comparison runs: the compare workflow (activities are proxies) or this process
 * (activities are the functions themselves). Both make the same calls in the same order.
 */
export interface CompareHost {
  activities: PruneActivities;
  /** Prefix of the job ids given to compute calls (the workflow id); logs only. */
  jobPrefix: string;
  report(progress: CompareProgress): void;
}

/** What every pruned model of the comparison shares. */
interface Context {
  input: CompareInput;
  settings: CompareSettings;
  host: CompareHost;
  evaluationShards: BatchRangeRef[];
}

/** Evaluates one model shard by shard; the exact sums merge in shard order. */
async function measure(context: Context, modelArtifactId: string, jobId: string): Promise<ModelMeasure> {
  const { activities } = context.host;
  const evaluation = context.input.evaluation;
  const parts = await mapBounded(context.evaluationShards, context.settings.maxParallel, (batches, index) =>
    activities.evaluateShard({ jobId: `${jobId}/eval${index}`, modelArtifactId, evaluation, batches, ...outputOf(context.input) }),
  );
  const merged = await activities.mergeEvaluations({ modelArtifactId, parts });
  return { modelArtifactId, ...merged };
}

/**
 * The one scoring pass of the input model: its shards' statistics, grouped by layer shard in
 * merge order. Every gradient criterion reads these same artifacts.
 */
async function scoreOnce(context: Context, progress: CompareProgress): Promise<string[][] | undefined> {
  const { input, settings, host } = context;
  const gradientCriterion = input.criteria.find(needsScoringPass);
  if (gradientCriterion === undefined || input.scoring === undefined) return undefined;
  const scoring = input.scoring;
  const plan = await host.activities.planScoringShards({
    modelArtifactId: input.modelArtifactId,
    criterion: gradientCriterion,
    scoring,
    batchShards: settings.batchShards,
    layerShards: settings.layerShards,
  });
  const planId = plan.shardPlanArtifactId;
  if (planId === undefined) throw new Error('the scoring shard plan has no shard plan artifact');
  const report = (done: number, total: number): void => host.report({ ...progress, phase: 'scoring', done, total });
  report(0, plan.shards.length);
  const stats = await mapBounded(
    plan.shards,
    settings.maxParallel,
    (shard) =>
      host.activities.computeGradStats({ jobId: `${host.jobPrefix}/score/s${shard.index}`, modelArtifactId: input.modelArtifactId, scoring, shardPlanArtifactId: planId, shard, ...outputOf(input) }),
    report,
  );
  const byLayerShard: string[][] = [];
  plan.shards.forEach((shard, index) => (byLayerShard[shard.layerShard] ??= []).push((stats[index] as { statsArtifactId: string }).statsArtifactId));
  return byLayerShard.filter((ids) => ids !== undefined);
}

interface ScoreVariant {
  criterion: CriterionName;
  seed?: number;
}

/**
 * Criteria in input order; the random criterion once per run, seeded seed + 1 + run: a
 * one-round `prune` seeds round 1 with seed + 1, so run 0 is that run's exact choice.
 */
function scoreVariants(input: CompareInput, settings: CompareSettings): ScoreVariant[] {
  return input.criteria.flatMap((criterion): ScoreVariant[] =>
    criterion === 'random'
      ? Array.from({ length: settings.randomSeeds }, (_, run) => ({ criterion, seed: input.seed + 1 + run }))
      : [{ criterion }],
  );
}

/** One one-shot run: plan to the target from the scores, remove, evaluate, fine-tune, evaluate. */
async function pruneOneShot(context: Context, scores: CriterionScores, target: number, jobId: string): Promise<CompareRow> {
  const { input, settings, host } = context;
  const { activities } = host;
  const plan = await activities.planRound({
    originalModelArtifactId: input.modelArtifactId,
    modelArtifactId: input.modelArtifactId,
    scoresArtifactId: scores.scoresArtifactId,
    plan: { ...input.plan, target: { metric: settings.metric, fraction: target }, rounds: 1 },
    round: 1,
  });
  const base = {
    criterion: scores.criterion,
    ...(scores.seed === undefined ? {} : { seed: scores.seed }),
    target,
    scoresArtifactId: scores.scoresArtifactId,
    planArtifactId: plan.planArtifactId,
    removedGroups: plan.groupsThisRound,
    reachedGoal: plan.reachedGoal,
  };
  let prunedId = input.modelArtifactId;
  if (plan.groupsThisRound > 0) {
    const surgery = await activities.applySurgery({ originalModelArtifactId: input.modelArtifactId, modelArtifactId: input.modelArtifactId, planArtifactId: plan.planArtifactId });
    prunedId = surgery.modelArtifactId;
  }
  const pruned = await measure(context, prunedId, jobId);
  const tune = input.fineTune;
  if (tune === undefined || settings.fineTuneSteps === 0) return { ...base, pruned };
  const tuned = await activities.fineTuneReplica({
    jobId: `${jobId}/tune`,
    startModelArtifactId: prunedId,
    fineTune: { ...tune, replicas: 1, repetitions: 1 },
    replica: { index: 0, count: 1 },
    firstStep: 0,
    seed: input.seed,
    ...outputOf(input),
  });
  const after = await measure(context, tuned.modelArtifactId, `${jobId}/tuned`);
  const fineTuneLoss = tuned.sampleCount === 0 ? 0 : tuned.lossSum / tuned.sampleCount;
  return { ...base, pruned, tuned: { ...after, fineTuneLoss } };
}

function targetLabel(target: number): string {
  return String(Math.round(target * 1000));
}

/**
 * Every criterion at every target, one-shot, on the input model (CompareInput). The gradient
 * statistics are computed once and read by every gradient criterion; magnitude, batch-norm
 * scale and random read only the weights. Rows come back in input order whatever order the
 * parallel work finishes in, so the result is deterministic.
 */
export async function runComparison(input: CompareInput, host: CompareHost): Promise<CompareResult> {
  const settings = resolveCompareSettings(input);
  const variants = scoreVariants(input, settings);
  const progress: CompareProgress = { phase: 'baseline', done: 0, total: 1, rowsDone: 0, rowsTotal: variants.length * input.targets.length };
  host.report(progress);
  const { shards } = await host.activities.planEvaluationShards({ evaluation: input.evaluation, shards: settings.evaluationShards });
  const context: Context = { input, settings, host, evaluationShards: shards };
  const baseline = await measure(context, input.modelArtifactId, `${host.jobPrefix}/baseline`);

  const statsArtifactIds = await scoreOnce(context, progress);
  host.report({ ...progress, phase: 'merging', done: 0, total: variants.length });
  const scores: CriterionScores[] = [];
  let meanLoss: number | undefined;
  for (const variant of variants) {
    const gradient = needsScoringPass(variant.criterion);
    const merged = await host.activities.mergeAndScore({
      modelArtifactId: input.modelArtifactId,
      criterion: variant.criterion,
      ...(input.lambda === undefined ? {} : { lambda: input.lambda }),
      seed: variant.seed ?? input.seed + 1,
      ...(input.scoring === undefined ? {} : { scoring: input.scoring }),
      statsArtifactIds: gradient ? (statsArtifactIds ?? []) : [],
    });
    meanLoss ??= merged.meanLoss;
    scores.push({ ...variant, scoresArtifactId: merged.scoresArtifactId });
    host.report({ ...progress, phase: 'merging', done: scores.length, total: variants.length });
  }

  const jobs = scores.flatMap((score) => input.targets.map((target) => ({ score, target })));
  const rows = await mapBounded(
    jobs,
    settings.maxParallel,
    ({ score, target }) => {
      const seedPart = score.seed === undefined ? '' : `-${score.seed}`;
      return pruneOneShot(context, score, target, `${host.jobPrefix}/${score.criterion}${seedPart}/t${targetLabel(target)}`);
    },
    (done, total) => host.report({ ...progress, phase: 'pruning', done, total, rowsDone: done }),
  );
  host.report({ ...progress, phase: 'done', done: rows.length, total: rows.length, rowsDone: rows.length });
  return {
    ...outputOf(input),
    baseline,
    metric: settings.metric,
    criteria: [...input.criteria],
    targets: [...input.targets],
    randomSeeds: settings.randomSeeds,
    fineTuneSteps: settings.fineTuneSteps,
    ...(statsArtifactIds === undefined
      ? {}
      : { scoring: { passes: 1, statsArtifactIds, ...(meanLoss === undefined ? {} : { meanLoss }) } }),
    scores,
    rows,
  };
}
