import { ApplicationFailure, asyncLocalStorage } from '@temporalio/activity';
import { ArtifactError, isArtifactError, storeBytes } from '@ippro/artifact-store';
import type { ArtifactStorage } from '@ippro/artifact-store';
import { ComputeInputError, DatasetResolver, getJson, getModel, getScores, putJson, putScores } from '@ippro/compute-core';
import { DataError, batchCount } from '@ippro/data';
import { outputOf } from '@ippro/workflow-core';
import { buildChannelGraph, modelCost } from '@ippro/graph';
import type { ChannelGraph } from '@ippro/graph';
import { deserializeGradStats, groupWeights, mergeGradStatsInOrder } from '@ippro/importance';
import type { GradStats } from '@ippro/importance';
import { ArtifactFormatError, modelToArtifact } from '@ippro/model-artifact';
import { accuracyOf, meanLossOf, mergeEvaluations as mergeEvaluationSums } from '@ippro/models';
import { planRemoval } from '@ippro/planner';
import type { PlanRemovalInput, RemovalPlan } from '@ippro/planner';
import {
  PruningInputError,
  applyBatchNormStatistics,
  batchShards,
  concatBatchNormStatistics,
  deserializeBatchNormStatistics,
  layerShards,
  needsGradientStats,
  scoreByCriterion,
  statsReading,
  trajectoryOptions,
} from '@ippro/pruning';
import { SurgeryError, removeGroups, survivingGroupIds } from '@ippro/surgery';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type {
  ApplySurgeryInput,
  ApplySurgeryOutput,
  ArtifactCheckInput,
  ArtifactCheckOutput,
  AverageModelsInput,
  BatchNormStatisticsInput,
  BatchNormStatisticsOutput,
  AverageModelsOutput,
  ComputeGradStatsInput,
  ComputeGradStatsOutput,
  DatasetRef,
  EvaluateShardInput,
  EvaluationSumsRef,
  FineTuneReplicaInput,
  FineTuneReplicaOutput,
  LostArtifactDetails,
  MergeAndScoreInput,
  MergeAndScoreOutput,
  MergeEvaluationsInput,
  MergeEvaluationsOutput,
  PlanConfig,
  PlanEvaluationShardsInput,
  PlanEvaluationShardsOutput,
  PlanRoundInput,
  PlanRoundOutput,
  PlanScoringShardsInput,
  PlanScoringShardsOutput,
  PoolFingerprintOutput,
  PruneActivities,
  RecalibrateModelInput,
  RecalibrateModelOutput,
  ScoreTrajectoryInput,
  ScoringShardRef,
} from '@ippro/workflow-core';
import { averageModelArtifacts } from './average-models';
import type { ComputeCallOptions, ComputeCallProgress, ComputeExecutor } from './compute-executor';

export interface PruneActivityDeps {
  /** Where models, statistics, plans and score tables live (shared with the executor). */
  store: ArtifactStorage;
  /** Runs the compute calls: in this process, or on gRPC workers. */
  executor: ComputeExecutor;
  /** Datasets the orchestrator opens itself (to count batches for shard plans); default a resolver over `store`. */
  datasets?: DatasetResolver;
  cifar10Dir?: string;
  /**
   * Outside Temporal (the in-process run), where there are no heartbeats: each compute call's
   * progress after every batch or step, and `undefined` when the call ends.
   */
  onComputeProgress?: (call: ComputeCallRef, progress: ComputeCallProgress | undefined) => void;
}

/** Which compute call a progress report is about. */
export interface ComputeCallRef {
  /** computeGradStats, fineTuneReplica or evaluateShard. */
  activity: string;
  jobId: string;
}

/** The shard plan artifact: the groups of each layer shard. */
interface ShardPlanDocument {
  layerShards: string[][];
}

/** The running activity's context, or undefined outside Temporal (the in-process run). */
function activityContext() {
  return asyncLocalStorage.getStore();
}

/**
 * Progress → heartbeat (the SDK throttles them; clients read the latest from the run's pending
 * activities); the activity's cancellation → the call's signal; a call silent for the heartbeat
 * timeout is abandoned (Temporal has timed this attempt out by then). Outside Temporal, progress
 * goes to `report`.
 */
function callOptions(report: ((progress: ComputeCallProgress) => void) | undefined): ComputeCallOptions {
  const context = activityContext();
  if (context === undefined) return report === undefined ? {} : { onProgress: report };
  const silenceMs = context.info.heartbeatTimeoutMs;
  return {
    signal: context.cancellationSignal,
    onProgress: (progress) => context.heartbeat(progress),
    ...(silenceMs === undefined || silenceMs <= 0 ? {} : { silenceMs }),
  };
}

function heartbeat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/**
 * Bad input (the same call fails the same way everywhere) becomes a non-retryable
 * ApplicationFailure whose type the workflow lists as non-retryable; anything else (a lost
 * worker, a full disk) is thrown as is and retried.
 */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (!(error instanceof Error)) return error;
  // A missing or corrupted artifact is named in the details: the workflow may recompute it.
  const artifactId = error instanceof ArtifactError ? error.key : error instanceof ComputeInputError ? error.artifactId : undefined;
  const details = artifactId === undefined ? undefined : [{ artifactId } satisfies LostArtifactDetails];
  const nonRetryable = (type: string) => ApplicationFailure.create({ message: error.message, type, nonRetryable: true, cause: error, ...(details === undefined ? {} : { details }) });
  if (error instanceof ComputeInputError) return nonRetryable(error.type);
  if (error instanceof PruningInputError || error instanceof SurgeryError || error instanceof ArtifactFormatError) return nonRetryable('InvalidArgument');
  if (error instanceof DataError) {
    if (error.kind === 'invalid-argument' || error.kind === 'out-of-range') return nonRetryable('InvalidArgument');
    if (error.kind === 'not-found') return nonRetryable('NotFound');
    if (error.kind === 'data-loss') return nonRetryable('DataLoss');
  }
  if (error instanceof ArtifactError) {
    if (error.kind === 'invalid-key' || error.kind === 'invalid-argument') return nonRetryable('InvalidArgument');
    if (error.kind === 'not-found') return nonRetryable('NotFound');
    if (error.kind === 'data-loss') return nonRetryable('DataLoss');
  }
  return error;
}

/**
 * A run input that is missing or corrupted: nothing can recompute it, so the run stops with an
 * error naming it (and where the store moved a corrupted copy).
 */
async function lostInputFailure(store: ArtifactStorage, artifactId: string, role: string, error: ArtifactError): Promise<ApplicationFailure> {
  const corrupted = error.kind === 'data-loss' ? [] : await store.corruptedCopies(artifactId);
  const what =
    error.kind === 'data-loss'
      ? `is corrupted (${error.message})`
      : corrupted.length > 0
        ? `was found corrupted (its bytes did not hash to its id) and moved to ${corrupted[corrupted.length - 1]}`
        : 'is missing from the artifact store';
  return ApplicationFailure.create({
    message: `${role} ${artifactId} ${what}; it cannot be recomputed from anything the run holds, so the run stops`,
    type: error.kind === 'data-loss' || corrupted.length > 0 ? 'DataLoss' : 'NotFound',
    nonRetryable: true,
    details: [{ artifactId } satisfies LostArtifactDetails],
  });
}

/** How often bookkeeping activities (plans, merges, surgery, averaging) heartbeat while they run. */
export const BOOKKEEPING_HEARTBEAT_MS = 2000;

/**
 * Maps failures (toActivityFailure). Bookkeeping activities run in this process, so they
 * heartbeat on a timer: a dead orchestrator is noticed after the heartbeat timeout, not after
 * start-to-close. Compute activities heartbeat only with real progress (a batch or a step done).
 */
function guarded<A, R>(work: (input: A) => Promise<R>, kind: 'compute' | 'bookkeeping'): (input: A) => Promise<R> {
  return async (input: A) => {
    const context = kind === 'bookkeeping' ? activityContext() : undefined;
    const timer = context === undefined ? undefined : setInterval(() => context.heartbeat(), BOOKKEEPING_HEARTBEAT_MS);
    context?.heartbeat();
    try {
      return await work(input);
    } catch (error) {
      throw toActivityFailure(error);
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
  };
}

/** The workflow's plan settings as the planner takes them; it checks them, group kinds by name included. */
function planSettings(plan: PlanConfig): Omit<PlanRemovalInput, 'graph' | 'scores' | 'round'> {
  return Object.fromEntries(Object.entries(plan).filter(([, value]) => value !== undefined)) as unknown as Omit<PlanRemovalInput, 'graph' | 'scores' | 'round'>;
}

/**
 * The pruneModel workflow's activities, closed over their dependencies. Plain async functions:
 * register them with a Temporal worker, or call them directly (runPruneInProcess).
 */
export function createPruneActivities(deps: PruneActivityDeps): PruneActivities {
  const { store, executor } = deps;
  const datasets = deps.datasets ?? new DatasetResolver(store, deps.cifar10Dir === undefined ? {} : { cifar10Dir: deps.cifar10Dir });

  async function withModel<T>(id: string, use: (model: LayersModel) => T | Promise<T>): Promise<T> {
    const model = await getModel(store, id);
    try {
      return await use(model);
    } finally {
      model.dispose();
    }
  }
  /** Runs a compute call, telling onComputeProgress (outside Temporal) how it goes and when it ends. */
  async function reporting<T>(activity: string, input: { jobId: string; fingerprint?: string }, call: (options: ComputeCallOptions) => Promise<T>): Promise<T> {
    const tell = deps.onComputeProgress;
    const ref = { activity, jobId: input.jobId };
    const pin = input.fingerprint === undefined ? {} : { fingerprint: input.fingerprint };
    try {
      return await call({ ...callOptions(tell === undefined ? undefined : (progress) => tell(ref, progress)), ...pin });
    } finally {
      tell?.(ref, undefined);
    }
  }
  const graphOf = (id: string): Promise<ChannelGraph> => withModel(id, (model) => buildChannelGraph(model));
  const removedOf = async (id: string | undefined): Promise<string[]> => (id === undefined ? [] : getJson<string[]>(store, id));
  const batchesOf = async (ref: DatasetRef, batchSize: number, field: string): Promise<{ batches: number; size: number }> => {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ComputeInputError(`${field}.batchSize must be a positive integer, got ${batchSize}`);
    const { size } = await datasets.shape(ref, `${field}.dataset`);
    return { batches: batchCount(size, batchSize), size };
  };

  async function planScoringShards(input: PlanScoringShardsInput): Promise<PlanScoringShardsOutput> {
    if (!needsGradientStats(input.criterion)) return { shards: [] };
    if (input.scoring === undefined) throw new ComputeInputError(`criterion '${input.criterion}' needs scoring data: set scoring`);
    const { batches, size } = await batchesOf(input.scoring.dataset, input.scoring.batchSize, 'scoring');
    const groups = layerShards(await graphOf(input.modelArtifactId), input.layerShards);
    const ranges = batchShards(batches, input.batchShards);
    const shardPlanArtifactId = await putJson(store, { layerShards: groups } satisfies ShardPlanDocument);
    const shards: ScoringShardRef[] = [];
    groups.forEach((_, layerShard) => {
      for (const range of ranges) shards.push({ index: shards.length, layerShard, batches: { start: range.start, end: range.end } });
    });
    return { shardPlanArtifactId, shards, datasetSize: size };
  }

  async function computeGradStats(input: ComputeGradStatsInput): Promise<ComputeGradStatsOutput> {
    const plan = await getJson<ShardPlanDocument>(store, input.shardPlanArtifactId);
    const groupIds = plan.layerShards[input.shard.layerShard];
    if (groupIds === undefined) throw new ComputeInputError(`shard ${input.shard.index}: layer shard ${input.shard.layerShard} is not in shard plan ${input.shardPlanArtifactId}`);
    heartbeat({ done: 0, total: input.shard.batches.end - input.shard.batches.start });
    return reporting('computeGradStats', input, (options) =>
      executor.computeGradStats(
        {
          jobId: input.jobId,
          modelArtifactId: input.modelArtifactId,
          dataset: input.scoring.dataset,
          batches: input.shard.batches,
          batchSize: input.scoring.batchSize,
          groupIds,
          batchNormMode: input.scoring.batchNormMode ?? 'inference',
          includeBias: input.scoring.includeBias ?? false,
          ...outputOf(input),
        },
        options,
      ),
    );
  }

  async function mergeAndScore(input: MergeAndScoreInput): Promise<MergeAndScoreOutput> {
    let stats: GradStats | undefined;
    if (needsGradientStats(input.criterion)) {
      if (input.statsArtifactIds.length === 0) throw new ComputeInputError(`criterion '${input.criterion}' needs gradient statistics, but no shards were computed`);
      // Batch shards within each layer shard, then the layer shards: float64, in shard order.
      const perLayerShard: GradStats[] = [];
      for (const ids of input.statsArtifactIds) {
        const parts: GradStats[] = [];
        for (const id of ids) parts.push(deserializeGradStats(await store.get(id)));
        perLayerShard.push(mergeGradStatsInOrder(parts));
        heartbeat();
      }
      stats = mergeGradStatsInOrder(perLayerShard);
    }
    const includeBias = input.scoring?.includeBias ?? false;
    const table = await withModel(input.modelArtifactId, (model) => {
      const weights = groupWeights(model, buildChannelGraph(model), { includeBias });
      return scoreByCriterion(input.criterion, {
        weights,
        ...(stats === undefined ? { seed: input.seed } : { stats }),
        ...(input.lambda === undefined ? {} : { lambda: input.lambda }),
        proscoreReading: statsReading(input.proscore),
      });
    });
    const scoresArtifactId = await putScores(store, table);
    return {
      scoresArtifactId,
      groupCount: table.rows.length,
      ...(stats === undefined || stats.count === 0 ? {} : { meanLoss: stats.sumLoss / stats.count }),
    };
  }

  async function scoreTrajectory(input: ScoreTrajectoryInput): Promise<MergeAndScoreOutput> {
    const { scoring, proscore } = input;
    if (proscore.reading !== 'trajectory') throw new ComputeInputError(`scoreTrajectory reads PROscore's trajectory, not the '${proscore.reading ?? 'pooled'}' reading`);
    const batchNormMode = scoring.batchNormMode ?? 'inference';
    const includeBias = scoring.includeBias ?? false;
    const { batches: scoringBatches } = await batchesOf(scoring.dataset, scoring.batchSize, 'scoring');
    const options = trajectoryOptions(proscore, { ...(input.lambda === undefined ? {} : { lambda: input.lambda }), scoringBatches, includeBias, batchNormMode, output: input.output ?? 'auto' });
    heartbeat({ done: 0, total: options.steps });
    const { steps, learningRate, momentum, weightDecay, order } = options;
    return reporting('scoreTrajectory', input, (callOptions) =>
      executor.computeTrajectoryScores(
        { jobId: input.jobId, modelArtifactId: input.modelArtifactId, dataset: scoring.dataset, batchSize: scoring.batchSize, steps, learningRate, momentum, weightDecay, batchNormMode, includeBias, order, ...outputOf(input) },
        callOptions,
      ),
    );
  }

  async function planRound(input: PlanRoundInput): Promise<PlanRoundOutput> {
    const original = await graphOf(input.originalModelArtifactId);
    const current = input.modelArtifactId === input.originalModelArtifactId ? original : await graphOf(input.modelArtifactId);
    const removed = await removedOf(input.removedArtifactId);
    const { scores: scoreOfCurrent } = await getScores(store, input.scoresArtifactId);
    const scores = new Map<string, number>();
    for (const [originalId, currentId] of survivingGroupIds(original, removed, current)) {
      const score = scoreOfCurrent.get(currentId);
      if (score !== undefined) scores.set(originalId, score);
    }
    let plan: RemovalPlan;
    try {
      plan = planRemoval({ ...planSettings(input.plan), graph: original, scores, removedGroupIds: removed, round: input.round });
    } catch (error) {
      // The planner's errors are all about its input (targets, ratios, layer names).
      throw new ComputeInputError(`plan: ${(error as Error).message}`, 'InvalidArgument', { cause: error });
    }
    const planArtifactId = await putJson(store, plan);
    return {
      planArtifactId,
      groupsThisRound: plan.groupIds.length,
      reachedGoal: plan.reachedGoal,
      ...(plan.reason === undefined ? {} : { reason: plan.reason }),
      removedFraction: plan.removedFraction,
    };
  }

  async function applySurgery(input: ApplySurgeryInput): Promise<ApplySurgeryOutput> {
    const original = await graphOf(input.originalModelArtifactId);
    const removed = await removedOf(input.removedArtifactId);
    const plan = await getJson<RemovalPlan>(store, input.planArtifactId);
    const result = await withModel(input.modelArtifactId, (model) => {
      const graph = buildChannelGraph(model);
      const currentIdOf = survivingGroupIds(original, removed, graph);
      const currentIds = plan.groupIds.map((id) => {
        const currentId = currentIdOf.get(id);
        if (currentId === undefined) throw new ComputeInputError(`group '${id}' of plan ${input.planArtifactId} is no longer in model ${input.modelArtifactId}`);
        return currentId;
      });
      const pruned = removeGroups(model, graph, currentIds);
      try {
        return { bytes: modelToArtifact(pruned), params: pruned.countParams() };
      } finally {
        pruned.dispose();
      }
    });
    const modelArtifactId = await storeBytes(store, result.bytes);
    const all = [...removed, ...plan.groupIds];
    const removedArtifactId = await putJson(store, all);
    return { modelArtifactId, removedArtifactId, removedTotal: all.length, params: result.params };
  }

  async function batchNormStatistics(input: BatchNormStatisticsInput): Promise<BatchNormStatisticsOutput> {
    const { recalibration } = input;
    heartbeat({ done: 0, total: input.batches.end - input.batches.start });
    return reporting('batchNormStatistics', input, (options) =>
      executor.computeBatchNormStatistics(
        { jobId: input.jobId, modelArtifactId: input.modelArtifactId, dataset: recalibration.dataset, batches: input.batches, batchSize: recalibration.batchSize, seed: input.seed, ...outputOf(input) },
        options,
      ),
    );
  }

  async function recalibrateModel(input: RecalibrateModelInput): Promise<RecalibrateModelOutput> {
    const parts = [];
    for (const id of input.statsArtifactIds) parts.push(deserializeBatchNormStatistics(await store.get(id)));
    const stats = concatBatchNormStatistics(parts);
    const bytes = await withModel(input.modelArtifactId, (model) => {
      applyBatchNormStatistics(model, stats);
      return modelToArtifact(model);
    });
    return { modelArtifactId: await storeBytes(store, bytes) };
  }

  async function fineTuneReplica(input: FineTuneReplicaInput): Promise<FineTuneReplicaOutput> {
    const tune = input.fineTune;
    // Each call starts the optimizer afresh (FineTuneConfig.optimizer): only its settings travel.
    const { distillation, optimizer: adamw } = tune;
    if (distillation !== undefined && input.teacherModelArtifactId === undefined) throw new ComputeInputError('fineTune.distillation needs the teacher: set teacherModelArtifactId');
    let augment = tune.augment;
    if (augment === undefined) {
      // @ippro/pruning's default: augment images (samples of rank 3).
      const { sampleShape } = await datasets.shape(tune.dataset, 'fineTune.dataset');
      augment = sampleShape.length === 3;
    }
    heartbeat({ done: 0, total: tune.steps });
    return reporting('fineTuneReplica', input, (options) =>
      executor.fineTune(
        {
          jobId: input.jobId,
          startModelArtifactId: input.startModelArtifactId,
          dataset: tune.dataset,
          replica: input.replica,
          batchSize: tune.batchSize,
          steps: tune.steps,
          firstStep: input.firstStep,
          optimizer: {
            learningRate: tune.learningRate,
            ...(adamw === undefined
              ? { momentum: tune.momentum ?? 0.9, nesterov: tune.nesterov ?? false }
              : { momentum: 0, nesterov: false, adamw: { beta1: adamw.beta1, beta2: adamw.beta2, epsilon: adamw.epsilon } }),
            weightDecay: tune.weightDecay ?? 0,
            labelSmoothing: tune.labelSmoothing ?? 0,
            ...(input.cosineDecay === undefined ? {} : { cosineDecay: input.cosineDecay }),
          },
          seed: input.seed,
          augment,
          ...(distillation === undefined || input.teacherModelArtifactId === undefined ? {} : { distillation: { teacherModelArtifactId: input.teacherModelArtifactId, ...distillation } }),
          ...outputOf(input),
        },
        options,
      ),
    );
  }

  async function averageModels(input: AverageModelsInput): Promise<AverageModelsOutput> {
    const models = [];
    for (const { modelArtifactId, sampleCount } of input.models) models.push({ bytes: await store.get(modelArtifactId), weight: sampleCount });
    return { modelArtifactId: await storeBytes(store, averageModelArtifacts(models)) };
  }

  async function planEvaluationShards(input: PlanEvaluationShardsInput): Promise<PlanEvaluationShardsOutput> {
    const { batches, size } = await batchesOf(input.evaluation.dataset, input.evaluation.batchSize, 'evaluation');
    return { shards: batchShards(batches, input.shards).map(({ start, end }) => ({ start, end })), datasetSize: size };
  }

  async function evaluateShard(input: EvaluateShardInput): Promise<EvaluationSumsRef> {
    heartbeat({ done: 0, total: input.batches.end - input.batches.start });
    const { correct, lossSum, count } = await reporting('evaluateShard', input, (options) =>
      executor.evaluate(
        {
          jobId: input.jobId,
          modelArtifactId: input.modelArtifactId,
          dataset: input.evaluation.dataset,
          batches: input.batches,
          batchSize: input.evaluation.batchSize,
          ...outputOf(input),
        },
        options,
      ),
    );
    return { correct, lossSum, count };
  }

  async function mergeEvaluations(input: MergeEvaluationsInput): Promise<MergeEvaluationsOutput> {
    const sums = mergeEvaluationSums(input.parts);
    const cost = modelCost(await graphOf(input.modelArtifactId));
    return { params: cost.params, flops: cost.macs, channels: cost.channels, top1: accuracyOf(sums), loss: meanLossOf(sums), evaluated: sums.count };
  }

  /** What a new run pins its compute calls to; the workflow records the answer and passes it on. */
  async function poolFingerprint(): Promise<PoolFingerprintOutput> {
    const signal = activityContext()?.cancellationSignal;
    return executor.poolFingerprint(signal === undefined ? {} : { signal });
  }

  async function checkArtifacts(input: ArtifactCheckInput): Promise<ArtifactCheckOutput> {
    for (const { artifactId, role } of input.artifacts) {
      try {
        await store.get(artifactId);
      } catch (error) {
        if (!isArtifactError(error, 'not-found') && !isArtifactError(error, 'data-loss')) throw error;
        throw await lostInputFailure(store, artifactId, role, error);
      }
      heartbeat();
    }
    return { checked: input.artifacts.length };
  }

  return {
    planScoringShards: guarded(planScoringShards, 'bookkeeping'),
    computeGradStats: guarded(computeGradStats, 'compute'),
    mergeAndScore: guarded(mergeAndScore, 'bookkeeping'),
    scoreTrajectory: guarded(scoreTrajectory, 'compute'),
    planRound: guarded(planRound, 'bookkeeping'),
    applySurgery: guarded(applySurgery, 'bookkeeping'),
    batchNormStatistics: guarded(batchNormStatistics, 'compute'),
    recalibrateModel: guarded(recalibrateModel, 'bookkeeping'),
    fineTuneReplica: guarded(fineTuneReplica, 'compute'),
    averageModels: guarded(averageModels, 'bookkeeping'),
    planEvaluationShards: guarded(planEvaluationShards, 'bookkeeping'),
    evaluateShard: guarded(evaluateShard, 'compute'),
    mergeEvaluations: guarded(mergeEvaluations, 'bookkeeping'),
    checkArtifacts: guarded(checkArtifacts, 'bookkeeping'),
    poolFingerprint: guarded(poolFingerprint, 'bookkeeping'),
  };
}
