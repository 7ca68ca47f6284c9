import type { protocol } from '@ippro/artifacts';
import { DatasetSlice, batchAt, batchCount } from '@ippro/data';
import type { LabeledDataset, TensorBatch } from '@ippro/data';
import { accumulateGradStats, serializeGradStats } from '@ippro/importance';
import type { BatchNormMode, ScoringBatch } from '@ippro/importance';
import { modelToArtifact } from '@ippro/model-artifact';
import { evaluateBatches, mergeEvaluations } from '@ippro/models';
import type { EvaluationSums, SgdSettings } from '@ippro/models';
import { batchShards, datasetBatches, fineTuneWithHooks } from '@ippro/pruning';
import type { ArtifactAccess } from './artifact-access';
import type { ModelPool, PooledModel } from './model-pool';
import { checkArtifactId, checkBatchRange, checkBatchSize, checkGroupIds, checkModelFitsData } from './request-checks';
import type { BatchSpan } from './request-checks';
import type { WorkerDatasets } from './worker-datasets';
import { invalidArgument } from './worker-error';

/** What an operation may do with the call it serves. */
export interface CallContext {
  /**
   * Lets the event loop run (so cancellation, deadlines and other calls are noticed), then
   * throws when the call was cancelled, its deadline passed, or the worker is aborting.
   * Operations call it before every batch or step.
   */
  checkpoint(): Promise<void>;
  /** Streams a Progress message. */
  progress(progress: protocol.Progress): void;
}

export interface OperationDeps {
  artifacts: ArtifactAccess;
  datasets: WorkerDatasets;
  models: ModelPool;
  maxBatchSize: number;
}

/** Runs `use` on a model of the pool; it goes back to the pool only when `use` succeeded and `unchanged`. */
async function withModel<T>(deps: OperationDeps, id: string, field: string, unchanged: boolean, use: (lent: PooledModel) => Promise<T>): Promise<T> {
  const lent = await deps.models.acquire(id, field);
  let ok = false;
  try {
    const result = await use(lent);
    ok = true;
    return result;
  } finally {
    deps.models.release(lent, ok && unchanged);
  }
}

function batchNormModeOf(criterion: protocol.CriterionParams__Output | null): BatchNormMode {
  switch (criterion?.batchNormMode) {
    case 'BATCH_NORM_MODE_INFERENCE':
      return 'inference';
    case 'BATCH_NORM_MODE_BATCH':
      return 'batch';
    default:
      throw invalidArgument('criterion.batch_norm_mode must be stated (BATCH_NORM_MODE_INFERENCE or BATCH_NORM_MODE_BATCH)');
  }
}

/**
 * Batches [start, end) at batchSize in dataset order, exactly as @ippro/pruning's
 * datasetBatches gives them to computeShard, with a checkpoint before each and progress after.
 */
async function* checkedBatches(
  dataset: LabeledDataset,
  range: BatchSpan,
  batchSize: number,
  context: CallContext,
): AsyncGenerator<ScoringBatch> {
  const total = range.end - range.start;
  let samples = 0;
  for (let index = range.start; index < range.end; index += 1) {
    await context.checkpoint();
    const batch: TensorBatch = batchAt(dataset, { batchSize, index });
    try {
      yield { inputs: batch.x, labels: batch.y };
    } finally {
      batch.dispose();
    }
    samples += batch.labels.length;
    context.progress({ done: index - range.start + 1, total, samples, meanLoss: 0 });
  }
}

/**
 * The statistics of one scoring shard, computed as @ippro/pruning's computeShard does (the same
 * accumulateGradStats call over the same batches), with a cancellation checkpoint per batch.
 * The header's modelHash is the model artifact id and its datasetId the canonical spec.
 */
export async function computeGradStatsOperation(
  request: protocol.ComputeGradStatsRequest__Output,
  deps: OperationDeps,
  context: CallContext,
): Promise<protocol.ComputeGradStatsResult> {
  const modelId = checkArtifactId(request.modelArtifactId, 'model_artifact_id');
  const batchSize = checkBatchSize(request.batchSize, deps.maxBatchSize);
  const batchNormMode = batchNormModeOf(request.criterion);
  const { dataset, datasetId } = await deps.datasets.resolve(request.dataset);
  const range = checkBatchRange(request.batches, dataset, batchSize);
  return withModel(deps, modelId, 'model_artifact_id', true, async ({ model, graph: graphOf }) => {
    checkModelFitsData(model, dataset, modelId);
    const graph = graphOf();
    const groups = checkGroupIds(request.groupIds, graph, modelId);
    const stats = await accumulateGradStats(model, graph, checkedBatches(dataset, range, batchSize, context), {
      datasetId,
      sampleStart: range.start * batchSize,
      ...(groups === undefined ? {} : { groups }),
      batchNormMode,
      includeBias: request.criterion?.includeBias ?? false,
      modelHash: modelId,
    });
    await context.checkpoint();
    const bytes = serializeGradStats(stats);
    const statsArtifactId = await deps.artifacts.put(bytes);
    return {
      statsArtifactId,
      summary: {
        count: stats.count,
        lossSum: stats.sumLoss,
        groupCount: stats.header.groupIds.length,
        sampleStart: stats.header.sampleRange[0],
        sampleEnd: stats.header.sampleRange[1],
        statsBytes: bytes.length,
      },
    };
  });
}

function checkSgd(settings: protocol.SgdSettings__Output | null): SgdSettings {
  if (settings == null) throw invalidArgument('optimizer is required');
  const { learningRate, momentum, nesterov, weightDecay, labelSmoothing, cosineDecay } = settings;
  if (!Number.isFinite(learningRate) || learningRate <= 0) throw invalidArgument(`optimizer.learning_rate must be a positive number, got ${learningRate}`);
  if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) throw invalidArgument(`optimizer.momentum must be in [0, 1), got ${momentum}`);
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw invalidArgument(`optimizer.weight_decay must be a non-negative number, got ${weightDecay}`);
  if (!Number.isFinite(labelSmoothing) || labelSmoothing < 0 || labelSmoothing >= 1) throw invalidArgument(`optimizer.label_smoothing must be in [0, 1), got ${labelSmoothing}`);
  if (cosineDecay != null && cosineDecay.steps < 1) throw invalidArgument(`optimizer.cosine_decay.steps must be at least 1, got ${cosineDecay.steps}`);
  return { learningRate, momentum, nesterov, weightDecay, labelSmoothing, ...(cosineDecay == null ? {} : { cosineDecay }) };
}

/** The batch range of a FineTune call's shard (a replica of a contiguous split, or explicit). */
function fineTuneRange(request: protocol.FineTuneRequest__Output, dataset: LabeledDataset, batchSize: number): BatchSpan {
  if (request.shard === 'replica' && request.replica != null) {
    const { index, count } = request.replica;
    if (count < 1 || index >= count) throw invalidArgument(`replica ${index} of ${count}: index must be below a positive count`);
    const ranges = batchShards(batchCount(dataset, batchSize), count);
    const range = ranges[index];
    if (range === undefined || range.end <= range.start) {
      throw invalidArgument(`replica ${index} of ${count}: dataset ${dataset.description} has only ${batchCount(dataset, batchSize)} batches of ${batchSize}`);
    }
    return range;
  }
  if (request.shard === 'batches') return checkBatchRange(request.batches, dataset, batchSize);
  throw invalidArgument('shard is required: replica or batches');
}

/** The samples of batches [start, end) as a dataset of their own (the replica's data). */
export function shardDataset(dataset: LabeledDataset, range: BatchSpan, batchSize: number): LabeledDataset {
  const start = range.start * batchSize;
  const end = Math.min(range.end * batchSize, dataset.size);
  if (start === 0 && end === dataset.size) return dataset;
  return new DatasetSlice(`${dataset.description}[${start}:${end}]`, dataset, { start, end });
}

/** K SGD steps from the start model on the shard's data (@ippro/pruning's loop), with a checkpoint per step. */
export async function fineTuneOperation(
  request: protocol.FineTuneRequest__Output,
  deps: OperationDeps,
  context: CallContext,
): Promise<protocol.FineTuneResult> {
  const modelId = checkArtifactId(request.startModelArtifactId, 'start_model_artifact_id');
  const batchSize = checkBatchSize(request.batchSize, deps.maxBatchSize);
  if (!Number.isInteger(request.steps) || request.steps < 1) throw invalidArgument(`steps must be at least 1, got ${request.steps}`);
  const sgd = checkSgd(request.optimizer);
  const { dataset: whole } = await deps.datasets.resolve(request.dataset);
  const data = shardDataset(whole, fineTuneRange(request, whole, batchSize), batchSize);
  if (request.augment && data.sampleShape.length !== 3) {
    throw invalidArgument(`augment needs [height, width, channels] images, but ${whole.description} has samples of shape [${data.sampleShape.join(', ')}]`);
  }
  // The weights change: the instance is disposed afterwards, never returned to the pool.
  return withModel(deps, modelId, 'start_model_artifact_id', false, async ({ model }) => {
    checkModelFitsData(model, data, modelId);
    const settings = { ...sgd, steps: request.steps, batchSize, seed: request.seed, firstStep: request.firstStep, augment: request.augment };
    const { samples, lossSum } = await fineTuneWithHooks(model, data, settings, {
      beforeStep: () => context.checkpoint(),
      afterStep: (done, samplesSoFar, lossSoFar) => context.progress({ done, total: request.steps, samples: samplesSoFar, meanLoss: lossSoFar / samplesSoFar }),
    });
    await context.checkpoint();
    const modelArtifactId = await deps.artifacts.put(modelToArtifact(model));
    return { modelArtifactId, sampleCount: samples, steps: request.steps, lossSum };
  });
}

/** Top-1 hits and summed loss over a batch range, batch by batch in order (exact sums). */
export async function evaluateOperation(
  request: protocol.EvaluateRequest__Output,
  deps: OperationDeps,
  context: CallContext,
): Promise<protocol.EvaluateResult> {
  const modelId = checkArtifactId(request.modelArtifactId, 'model_artifact_id');
  const batchSize = checkBatchSize(request.batchSize, deps.maxBatchSize);
  const { dataset } = await deps.datasets.resolve(request.dataset);
  const range = checkBatchRange(request.batches, dataset, batchSize);
  return withModel(deps, modelId, 'model_artifact_id', true, async ({ model }) => {
    checkModelFitsData(model, dataset, modelId);
    const parts: EvaluationSums[] = [];
    for (let index = range.start; index < range.end; index += 1) {
      await context.checkpoint();
      for (const batch of datasetBatches(dataset, { start: index, end: index + 1 }, { batchSize })) {
        parts.push(evaluateBatches(model, [batch]));
      }
      const sums = mergeEvaluations(parts);
      context.progress({ done: index - range.start + 1, total: range.end - range.start, samples: sums.count, meanLoss: sums.lossSum / sums.count });
    }
    const { correct, lossSum, count } = mergeEvaluations(parts);
    return { correct, lossSum, count };
  });
}
