import type { LabeledDataset } from '@ippro/data';
import { buildChannelGraph, modelCost } from '@ippro/graph';
import type { ChannelGraph } from '@ippro/graph';
import { planRemoval } from '@ippro/planner';
import type { PlanRemovalInput, RemovalPlan } from '@ippro/planner';
import { removeGroups, survivingGroupIds } from '@ippro/surgery';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Criterion } from './criteria';
import { evaluateDataset } from './evaluate-dataset';
import { fineTune } from './fine-tune';
import type { FineTuneSettings } from './fine-tune';
import type { PruneEventListener, PrunePhase } from './prune-events';
import type { PruneSummary, RoundMetrics, StopReason } from './prune-summary';
import { scoreModel } from './score-model';
import type { ScoringSettings } from './sharded-grad-stats';

/** How each round's plan is made: the planner's settings that stay fixed for a run. */
export type PlanSettings = Pick<
  PlanRemovalInput,
  'target' | 'rounds' | 'schedule' | 'ranking' | 'maxLayerRatio' | 'minChannels' | 'roundTo' | 'ignoredLayers'
>;

export interface LocalPruneRequest extends PlanSettings {
  model: LayersModel;
  criterion: Criterion;
  lambda?: number;
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
}

export interface LocalPruneResult {
  model: LayersModel;
  summary: PruneSummary;
}

/** The state carried from round to round. */
interface RunState {
  original: ChannelGraph;
  model: LayersModel;
  graph: ChannelGraph;
  removed: string[];
}

/**
 * Score, plan, remove, fine-tune and evaluate, round after round, in this process: the
 * reference execution that a distributed run must reproduce.
 */
export async function pruneLocally(request: LocalPruneRequest, onEvent?: PruneEventListener): Promise<LocalPruneResult> {
  const progress = (round: number, phase: PrunePhase) => (done: number, total: number) =>
    onEvent?.({ kind: 'progress', round, phase, done, total });
  const original = buildChannelGraph(request.model);
  const baseline = measure(request, request.model, original, 0, 0, progress(0, 'baseline'));
  onEvent?.({ kind: 'round-done', metrics: baseline });
  let state: RunState = { original, model: request.model, graph: original, removed: [] };
  const history: RoundMetrics[] = [];
  let stoppedBecause: StopReason = 'rounds-done';
  for (let round = 1; round <= request.rounds; round += 1) {
    const started = Date.now();
    const plan = await planRound(request, state, round, progress);
    if (plan.groupIds.length === 0) {
      stoppedBecause = plan.reachedGoal ? 'target-reached' : 'nothing-to-remove';
      onEvent?.({ kind: 'stopped', reason: plan.reason ?? stoppedBecause });
      break;
    }
    const next = applyPlan(state, plan, progress(round, 'surgery'));
    const tuned = tuneRound(request, next.model, round, progress(round, 'fine-tune'));
    const metrics = measure(request, next.model, next.graph, round, plan.groupIds.length, progress(round, 'evaluate'));
    Object.assign(metrics, { plan, fineTuneLoss: tuned, seconds: (Date.now() - started) / 1000 });
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
  const summary: PruneSummary = {
    criterion: request.criterion,
    target: request.target,
    rounds: request.rounds,
    baseline,
    history,
    resultRound,
    stoppedBecause,
    removedGroupIds: state.removed,
  };
  return { model: state.model, summary };
}

async function planRound(
  request: LocalPruneRequest,
  state: RunState,
  round: number,
  progress: (round: number, phase: PrunePhase) => (done: number, total: number) => void,
): Promise<RemovalPlan> {
  const table = await scoreModel(state.model, state.graph, request.scoringData, {
    criterion: request.criterion,
    seed: request.seed + round,
    scoring: request.scoring,
    ...(request.lambda === undefined ? {} : { lambda: request.lambda }),
  }, progress(round, 'score'));
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
  const { target, rounds, schedule, ranking, maxLayerRatio, minChannels, roundTo, ignoredLayers } = request;
  const optional = { schedule, ranking, maxLayerRatio, minChannels, roundTo, ignoredLayers };
  const given = Object.entries(optional).filter(([, value]) => value !== undefined);
  return { target, rounds, ...(Object.fromEntries(given) as Partial<PlanSettings>) };
}

function applyPlan(state: RunState, plan: RemovalPlan, report: (done: number, total: number) => void): RunState {
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

function tuneRound(
  request: LocalPruneRequest,
  model: LayersModel,
  round: number,
  report: (done: number, total: number) => void,
): number | undefined {
  const data = request.fineTuneData;
  if (data === undefined || request.fineTune.steps === 0) return undefined;
  const settings = { ...request.fineTune, seed: request.seed, firstStep: (round - 1) * request.fineTune.steps };
  const steps = request.fineTune.steps;
  return fineTune(model, data, settings, (done) => report(done, steps)).meanLoss;
}

function measure(
  request: LocalPruneRequest,
  model: LayersModel,
  graph: ChannelGraph,
  round: number,
  removedGroups: number,
  report: (done: number, total: number) => void,
): RoundMetrics {
  const started = Date.now();
  const cost = modelCost(graph);
  const sums = evaluateDataset(model, request.evaluationData, request.evaluationBatchSize, report);
  return {
    round,
    params: cost.params,
    flops: cost.macs,
    channels: cost.channels,
    top1: sums.count === 0 ? 0 : sums.correct / sums.count,
    loss: sums.count === 0 ? 0 : sums.lossSum / sums.count,
    evaluated: sums.count,
    removedGroups,
    seconds: (Date.now() - started) / 1000,
  };
}

function overBudget(request: LocalPruneRequest, baseline: RoundMetrics, metrics: RoundMetrics): boolean {
  return request.maxAccuracyDrop !== undefined && metrics.top1 < baseline.top1 - request.maxAccuracyDrop;
}
