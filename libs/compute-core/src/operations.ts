import { storeBytes } from '@ippro/artifact-store';
import type { ArtifactStorage } from '@ippro/artifact-store';
import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { accumulateGradStats, serializeGradStats } from '@ippro/importance';
import type { ScoringBatch } from '@ippro/importance';
import { evaluateDataset } from '@ippro/models';
import type { Distillation } from '@ippro/models';
import { batchNormStatistics, datasetBatches, fineTuneWithHooks, recalibrationBatches, scoreTrajectory, serializeBatchNormStatistics } from '@ippro/pruning';
import type { BatchRangeRef } from '@ippro/workflow-core';
import type * as tf from '@tensorflow/tfjs-core';
import type {
  BatchNormStatisticsCall,
  BatchNormStatisticsCallResult,
  CallContext,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  GradStatsCall,
  GradStatsCallResult,
  ScoreTrajectoryCall,
  ScoreTrajectoryCallResult,
} from './calls';
import {
  checkArtifactId,
  checkAugment,
  checkBatchRange,
  checkBatchSize,
  checkDistillation,
  checkDistillationOutput,
  checkGroupIds,
  checkModelFitsData,
  checkOutput,
  checkSeed,
  checkSgd,
  checkSteps,
  checkStreamRange,
  checkTrajectory,
  replicaRange,
  shardDataset,
} from './checks';
import { DatasetResolver } from './dataset-resolver';
import { ModelPool } from './model-pool';
import { putModel } from './model-store';
import { putScores } from './scores-document';

/** What the operations work with: one artifact store for inputs and results, datasets, built models, limits. */
export interface ComputeDeps {
  artifacts: ArtifactStorage;
  datasets: DatasetResolver;
  models: ModelPool;
  /** Largest batch_size a call may ask for; none when absent. */
  maxBatchSize?: number;
}

export interface ComputeDepsOptions {
  /** Directory of the CIFAR-10 .bin files. */
  cifar10Dir?: string;
  /** Built models kept between calls (ModelPool); default 0: each call builds its own. */
  idleModels?: number;
  maxBatchSize?: number;
  /** Default a DatasetResolver over `artifacts`. */
  datasets?: DatasetResolver;
}

export function createComputeDeps(artifacts: ArtifactStorage, options: ComputeDepsOptions = {}): ComputeDeps {
  return {
    artifacts,
    datasets: options.datasets ?? new DatasetResolver(artifacts, options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir }),
    models: new ModelPool(artifacts, options.idleModels ?? 0),
    ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
  };
}

/** Batches [start, end) in dataset order, with a checkpoint before each and progress after. */
async function* scoringBatches(dataset: LabeledDataset, range: BatchRangeRef, batchSize: number, context: CallContext): AsyncGenerator<ScoringBatch> {
  const total = range.end - range.start;
  let done = 0;
  let samples = 0;
  for (const batch of datasetBatches(dataset, range, { batchSize })) {
    await context.checkpoint();
    yield { inputs: batch.x, labels: batch.y };
    done += 1;
    samples += batch.labels.length;
    context.progress({ done, total, samples, meanLoss: 0 });
  }
}

/**
 * The gradient statistics of one scoring shard, as @ippro/pruning's computeShard computes them
 * (the same accumulateGradStats call over the same batches), stored as an artifact. The header's
 * modelHash is the model artifact id, its datasetId the canonical spec.
 */
export async function computeGradStats(call: GradStatsCall, deps: ComputeDeps, context: CallContext): Promise<GradStatsCallResult> {
  const modelId = checkArtifactId(call.modelArtifactId, 'model_artifact_id');
  const batchSize = checkBatchSize(call.batchSize, deps.maxBatchSize);
  const output = checkOutput(call.output);
  const { dataset, datasetId } = await deps.datasets.resolve(call.dataset);
  const range = checkBatchRange(call.batches, dataset, batchSize);
  return deps.models.borrow(modelId, 'model_artifact_id', 'reads', async ({ model, graph }) => {
    checkModelFitsData(model, dataset, modelId, output);
    const groups = checkGroupIds(call.groupIds, graph(), modelId);
    const stats = await accumulateGradStats(model, graph(), scoringBatches(dataset, range, batchSize, context), {
      datasetId,
      sampleStart: range.start * batchSize,
      ...(groups === undefined ? {} : { groups }),
      batchNormMode: call.batchNormMode,
      includeBias: call.includeBias,
      modelHash: modelId,
      output,
    });
    await context.checkpoint();
    const bytes = serializeGradStats(stats);
    const statsArtifactId = await storeBytes(deps.artifacts, bytes);
    return { statsArtifactId, count: stats.count, lossSum: stats.sumLoss, groupCount: stats.header.groupIds.length, statsBytes: bytes.length };
  });
}

/** K SGD steps from the start model on the shard's data (@ippro/pruning's step loop); the tuned model is stored as an artifact. */
export async function fineTune(call: FineTuneCall, deps: ComputeDeps, context: CallContext): Promise<FineTuneCallResult> {
  const modelId = checkArtifactId(call.startModelArtifactId, 'start_model_artifact_id');
  const batchSize = checkBatchSize(call.batchSize, deps.maxBatchSize);
  const steps = checkSteps(call.steps);
  const sgd = checkSgd(call.optimizer);
  const output = checkOutput(call.output);
  const distillation = call.distillation === undefined ? undefined : checkDistillation(call.distillation);
  const { dataset: whole } = await deps.datasets.resolve(call.dataset);
  const range = call.replica === undefined ? checkBatchRange(call.batches, whole, batchSize) : replicaRange(whole, batchSize, call.replica);
  const data = shardDataset(whole, range, batchSize);
  checkAugment(call.augment, data);
  return deps.models.borrow(modelId, 'start_model_artifact_id', 'changes', async ({ model }) => {
    checkModelFitsData(model, data, modelId, output);
    const tune = async (teacher?: Distillation): Promise<FineTuneCallResult> => {
      const settings = { ...sgd, output, steps, batchSize, seed: call.seed, firstStep: call.firstStep, augment: call.augment, ...(teacher === undefined ? {} : { distillation: teacher }) };
      const { samples, lossSum } = await fineTuneWithHooks(model, data, settings, {
        beforeStep: () => context.checkpoint(),
        afterStep: (done, samplesSoFar, lossSoFar) => context.progress({ done, total: steps, samples: samplesSoFar, meanLoss: lossSoFar / samplesSoFar }),
      });
      await context.checkpoint();
      const modelArtifactId = await putModel(deps.artifacts, model);
      return { modelArtifactId, sampleCount: samples, steps, lossSum };
    };
    if (distillation === undefined) return tune();
    checkDistillationOutput(model, output);
    // The teacher only runs forward: it goes back to the pool for the next call (the other replicas').
    return deps.models.borrow(distillation.teacherModelArtifactId, 'distillation.teacher_model_artifact_id', 'reads', async ({ model: teacher }) => {
      checkModelFitsData(teacher, data, distillation.teacherModelArtifactId, output);
      return tune({ teacher, weight: distillation.weight, temperature: distillation.temperature });
    });
  });
}

/** Model inputs of the recalibration batches, with a checkpoint before each and progress after. */
async function* recalibrationInputs(dataset: LabeledDataset, range: BatchRangeRef, call: BatchNormStatisticsCall, context: CallContext): AsyncGenerator<tf.Tensor> {
  const total = range.end - range.start;
  let done = 0;
  let samples = 0;
  for (const batch of recalibrationBatches(dataset, range, call.batchSize, call.seed)) {
    await context.checkpoint();
    yield batch.x;
    done += 1;
    samples += batch.labels.length;
    context.progress({ done, total, samples, meanLoss: 0 });
  }
}

/**
 * Every BatchNormalization's batch statistics over recalibration batches [start, end)
 * (@ippro/pruning's batchNormStatistics), stored as an artifact: one shard of a recalibration pass.
 */
export async function computeBatchNormStatistics(call: BatchNormStatisticsCall, deps: ComputeDeps, context: CallContext): Promise<BatchNormStatisticsCallResult> {
  const modelId = checkArtifactId(call.modelArtifactId, 'model_artifact_id');
  checkBatchSize(call.batchSize, deps.maxBatchSize);
  const range = checkStreamRange(call.batches);
  checkSeed(call.seed);
  const output = checkOutput(call.output);
  const { dataset } = await deps.datasets.resolve(call.dataset);
  return deps.models.borrow(modelId, 'model_artifact_id', 'reads', async ({ model }) => {
    checkModelFitsData(model, dataset, modelId, output);
    const stats = await batchNormStatistics(model, recalibrationInputs(dataset, range, call, context));
    await context.checkpoint();
    const statsArtifactId = await storeBytes(deps.artifacts, serializeBatchNormStatistics(stats));
    return { statsArtifactId, batches: range.end - range.start, samples: stats.batches.reduce((sum, batch) => sum + batch.size, 0) };
  });
}

/**
 * PROscore's trajectory reading of one model over the scoring data in order (@ippro/pruning's
 * scoreTrajectory; the model is restored afterwards), stored as a scores artifact.
 */
export async function computeTrajectoryScores(call: ScoreTrajectoryCall, deps: ComputeDeps, context: CallContext): Promise<ScoreTrajectoryCallResult> {
  const modelId = checkArtifactId(call.modelArtifactId, 'model_artifact_id');
  const batchSize = checkBatchSize(call.batchSize, deps.maxBatchSize);
  const output = checkOutput(call.output);
  const { dataset } = await deps.datasets.resolve(call.dataset);
  const steps = checkTrajectory(call, batchCount(dataset, batchSize));
  return deps.models.borrow(modelId, 'model_artifact_id', 'reads', async ({ model, graph }) => {
    checkModelFitsData(model, dataset, modelId, output);
    const proscore = { reading: 'trajectory' as const, order: call.order, weightDecay: call.weightDecay, trajectory: { steps, learningRate: call.learningRate, momentum: call.momentum } };
    const table = await scoreTrajectory(model, graph(), dataset, { proscore, batchSize, includeBias: call.includeBias, batchNormMode: call.batchNormMode, output }, {
      beforeStep: () => context.checkpoint(),
      afterStep: (done, total, samples) => context.progress({ done, total, samples, meanLoss: 0 }),
    });
    await context.checkpoint();
    return { scoresArtifactId: await putScores(deps.artifacts, table), groupCount: table.rows.length };
  });
}

/** Hits (top-1, or exact match for a sigmoid) and summed loss over a batch range, batch by batch in order (@ippro/models' evaluateDataset). */
export async function evaluate(call: EvaluateCall, deps: ComputeDeps, context: CallContext): Promise<EvaluateCallResult> {
  const modelId = checkArtifactId(call.modelArtifactId, 'model_artifact_id');
  const batchSize = checkBatchSize(call.batchSize, deps.maxBatchSize);
  const output = checkOutput(call.output);
  const { dataset } = await deps.datasets.resolve(call.dataset);
  const range = checkBatchRange(call.batches, dataset, batchSize);
  return deps.models.borrow(modelId, 'model_artifact_id', 'reads', async ({ model }) => {
    checkModelFitsData(model, dataset, modelId, output);
    const { correct, lossSum, count } = await evaluateDataset(model, dataset, {
      batchSize,
      output,
      batches: range,
      beforeBatch: () => context.checkpoint(),
      afterBatch: (done, total, sums) => context.progress({ done, total, samples: sums.count, meanLoss: sums.lossSum / sums.count }),
    });
    return { correct, lossSum, count };
  });
}
