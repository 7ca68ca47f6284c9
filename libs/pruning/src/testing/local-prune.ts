import type { LabeledDataset } from '@ippro/data';
import { buildChannelGraph, modelCost } from '@ippro/graph';
import type { ChannelGraph } from '@ippro/graph';
import { accuracyOf, evaluateDataset, meanLossOf } from '@ippro/models';
import type { OutputSetting } from '@ippro/models';
import { planRemoval } from '@ippro/planner';
import type { PlanRemovalInput, RemovalPlan } from '@ippro/planner';
import { removeGroups, survivingGroupIds } from '@ippro/surgery';
import type { DistillationConfig, ProscoreConfig, RoundMetrics, StopReason } from '@ippro/workflow-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { recalibrateBatchNorm } from '../batch-norm-recalibration';
import type { Criterion } from '../criteria';
import { fineTune } from '../fine-tune';
import type { FineTuneSettings } from '../fine-tune';
import { scoreModel } from '../score-model';
import type { ScoringSettings } from '../sharded-grad-stats';

/** How each round's plan is made: the planner's settings that stay fixed for a run. */
export type PlanSettings = Pick<
  PlanRemovalInput,
  'target' | 'rounds' | 'schedule' | 'ranking' | 'maxLayerRatio' | 'minChannels' | 'roundTo' | 'ignoredLayers' | 'groupKinds'
>;

export interface LocalPruneRequest extends PlanSettings {
  model: LayersModel;
  criterion: Criterion;
  lambda?: number;
  proscore?: ProscoreConfig;
  /** Batch-norm recalibration after every surgery, on the run's seed. */
  recalibration?: { data: LabeledDataset; batches: number; batchSize: number };
  /** Distillation from the input model during fine-tuning. */
  distillation?: DistillationConfig;
  /** Scoring data; required by the gradient criteria. */
  scoringData?: LabeledDataset;
  scoring: ScoringSettings;
  fineTuneData?: LabeledDataset;
  fineTune: Omit<FineTuneSettings, 'firstStep' | 'seed'>;
  evaluationData: LabeledDataset;
  evaluationBatchSize: number;
  seed: number;
  /** Stop when top-1 falls more than this (a fraction, e.g. 0.015) below the input model's. */
  maxAccuracyDrop?: number;
  /** The model's output kind for scoring, fine-tuning and evaluation; default 'auto'. */
  output?: OutputSetting;
}

/** A round's metrics as the pruneModel workflow records them; the oracle keeps models, not artifact ids. */
export type LocalRoundMetrics = Omit<RoundMetrics, 'modelArtifactId'>;

export interface LocalPruneSummary {
  baseline: LocalRoundMetrics;
  history: LocalRoundMetrics[];
  /** The round whose model is the result (0 = the input model). */
  resultRound: number;
  stoppedBecause: StopReason;
  /** Cumulative group ids removed from the input model to obtain the result. */
  removedGroupIds: string[];
}

export interface LocalPruneResult {
  model: LayersModel;
  summary: LocalPruneSummary;
}

export type LocalPrunePhase = 'baseline' | 'score' | 'plan' | 'surgery' | 'fine-tune' | 'evaluate';

/** What the oracle reports while it works. */
export type LocalPruneEvent =
  | { kind: 'progress'; round: number; phase: LocalPrunePhase; done: number; total: number }
  | { kind: 'round-done'; metrics: LocalRoundMetrics }
  | { kind: 'stopped'; reason: string };

/** The state carried from round to round. */
interface RunState {
  original: ChannelGraph;
  model: LayersModel;
  graph: ChannelGraph;
  removed: string[];
}

type Report = (done: number, total: number) => void;

/**
 * Score, plan, remove, fine-tune and evaluate, round after round, in one process with plain
 * loops and no artifacts: the test oracle that the in-process and distributed runs
 * (@ippro/activities, the pruneModel workflow) must reproduce byte for byte. It scores, tunes
 * and evaluates with the same pieces they do (accumulateGradStats, the SGD step loop,
 * @ippro/models' evaluateDataset and loss), and plans with the same planner.
 */
export async function pruneLocally(request: LocalPruneRequest, onEvent?: (event: LocalPruneEvent) => void): Promise<LocalPruneResult> {
  const progress = (round: number, phase: LocalPrunePhase): Report => (done, total) => onEvent?.({ kind: 'progress', round, phase, done, total });
  const original = buildChannelGraph(request.model);
  const baseline = await measure(request, request.model, original, { round: 0, removedGroups: 0, removedTotal: 0 }, progress(0, 'baseline'));
  onEvent?.({ kind: 'round-done', metrics: baseline });
  let state: RunState = { original, model: request.model, graph: original, removed: [] };
  const history: LocalRoundMetrics[] = [];
  let stoppedBecause: StopReason = 'rounds-done';
  for (let round = 1; round <= request.rounds; round += 1) {
    const plan = await planRound(request, state, round, progress);
    if (plan.groupIds.length === 0) {
      stoppedBecause = plan.reachedGoal ? 'target-reached' : 'nothing-to-remove';
      onEvent?.({ kind: 'stopped', reason: plan.reason ?? stoppedBecause });
      break;
    }
    const next = applyPlan(state, plan, progress(round, 'surgery'));
    if (request.recalibration !== undefined) {
      const { data, batches, batchSize } = request.recalibration;
      await recalibrateBatchNorm(next.model, data, { batches, batchSize, seed: request.seed });
    }
    const fineTuneLoss = tuneRound(request, next.model, round, progress(round, 'fine-tune'));
    const counts = { round, removedGroups: plan.groupIds.length, removedTotal: next.removed.length };
    const metrics: LocalRoundMetrics = {
      ...(await measure(request, next.model, next.graph, counts, progress(round, 'evaluate'))),
      ...(fineTuneLoss === undefined ? {} : { fineTuneLoss }),
      reachedGoal: plan.reachedGoal,
    };
    onEvent?.({ kind: 'round-done', metrics });
    if (overBudget(request, baseline, metrics)) {
      next.model.dispose();
      stoppedBecause = 'accuracy-budget';
      onEvent?.({ kind: 'stopped', reason: `top-1 fell more than the allowed ${request.maxAccuracyDrop} below the input model` });
      history.push(metrics);
      break;
    }
    if (state.model !== request.model) state.model.dispose();
    state = next;
    history.push(metrics);
    if (round === request.rounds) stoppedBecause = plan.reachedGoal ? 'target-reached' : 'rounds-done';
  }
  const resultRound = stoppedBecause === 'accuracy-budget' ? history.length - 1 : history.length;
  return { model: state.model, summary: { baseline, history, resultRound, stoppedBecause, removedGroupIds: state.removed } };
}

async function planRound(request: LocalPruneRequest, state: RunState, round: number, progress: (round: number, phase: LocalPrunePhase) => Report): Promise<RemovalPlan> {
  const table = await scoreModel(
    state.model,
    state.graph,
    request.scoringData,
    {
      criterion: request.criterion,
      seed: request.seed + round,
      scoring: { ...request.scoring, ...outputOf(request) },
      ...(request.lambda === undefined ? {} : { lambda: request.lambda }),
      ...(request.proscore === undefined ? {} : { proscore: request.proscore }),
    },
    progress(round, 'score'),
  );
  const currentIdOf = survivingGroupIds(state.original, state.removed, state.graph);
  const scoreOfCurrent = new Map(table.rows.map((row) => [row.id, row.score]));
  const scores = new Map<string, number>();
  for (const [originalId, currentId] of currentIdOf) {
    const score = scoreOfCurrent.get(currentId);
    if (score !== undefined) scores.set(originalId, score);
  }
  progress(round, 'plan')(0, 1);
  const plan = planRemoval({ ...planSettings(request), graph: state.original, scores, removedGroupIds: state.removed, round });
  progress(round, 'plan')(1, 1);
  return plan;
}

function planSettings(request: LocalPruneRequest): PlanSettings {
  const { target, rounds, schedule, ranking, maxLayerRatio, minChannels, roundTo, ignoredLayers, groupKinds } = request;
  const optional = { schedule, ranking, maxLayerRatio, minChannels, roundTo, ignoredLayers, groupKinds };
  const given = Object.entries(optional).filter(([, value]) => value !== undefined);
  return { target, rounds, ...(Object.fromEntries(given) as Partial<PlanSettings>) };
}

function applyPlan(state: RunState, plan: RemovalPlan, report: Report): RunState {
  report(0, 1);
  const currentIdOf = survivingGroupIds(state.original, state.removed, state.graph);
  const currentIds = plan.groupIds.map((id) => {
    const current = currentIdOf.get(id);
    if (current === undefined) throw new Error(`group '${id}' of the plan is no longer in the model`);
    return current;
  });
  const model = removeGroups(state.model, state.graph, currentIds);
  report(1, 1);
  return { original: state.original, model, graph: buildChannelGraph(model), removed: [...state.removed, ...plan.groupIds] };
}

function tuneRound(request: LocalPruneRequest, model: LayersModel, round: number, report: Report): number | undefined {
  const data = request.fineTuneData;
  if (data === undefined || request.fineTune.steps === 0) return undefined;
  const settings = {
    ...request.fineTune,
    ...outputOf(request),
    seed: request.seed,
    firstStep: (round - 1) * request.fineTune.steps,
    ...(request.distillation === undefined ? {} : { distillation: { teacher: request.model, ...request.distillation } }),
  };
  const steps = request.fineTune.steps;
  return fineTune(model, data, settings, (done) => report(done, steps)).meanLoss;
}

async function measure(
  request: LocalPruneRequest,
  model: LayersModel,
  graph: ChannelGraph,
  counts: Pick<LocalRoundMetrics, 'round' | 'removedGroups' | 'removedTotal'>,
  report: Report,
): Promise<LocalRoundMetrics> {
  const cost = modelCost(graph);
  const sums = await evaluateDataset(model, request.evaluationData, { batchSize: request.evaluationBatchSize, afterBatch: report, ...outputOf(request) });
  return {
    ...counts,
    params: cost.params,
    flops: cost.macs,
    channels: cost.channels,
    top1: accuracyOf(sums),
    loss: meanLossOf(sums),
    evaluated: sums.count,
  };
}

function outputOf(request: LocalPruneRequest): { output?: OutputSetting } {
  return request.output === undefined ? {} : { output: request.output };
}

function overBudget(request: LocalPruneRequest, baseline: LocalRoundMetrics, metrics: LocalRoundMetrics): boolean {
  return request.maxAccuracyDrop !== undefined && metrics.top1 < baseline.top1 - request.maxAccuracyDrop;
}
