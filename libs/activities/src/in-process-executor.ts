import { artifactKeyOf } from '@ippro/artifacts';
import type { ArtifactStorage } from '@ippro/artifacts';
import { batchAt } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { buildChannelGraph } from '@ippro/graph';
import { accumulateGradStats, serializeGradStats } from '@ippro/importance';
import type { ScoringBatch } from '@ippro/importance';
import { modelFromArtifact, modelToArtifact } from '@ippro/model-artifact';
import { evaluateBatches, mergeEvaluations } from '@ippro/models';
import type { EvaluationSums } from '@ippro/models';
import { datasetBatches, fineTuneWithHooks } from '@ippro/pruning';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type {
  ComputeCallOptions,
  ComputeExecutor,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  GradStatsCall,
  GradStatsCallResult,
} from './compute-executor';
import { ComputeInputError } from './compute-executor';
import { DatasetResolver, checkBatchRange, replicaRange, shardDataset } from './datasets';

export interface InProcessExecutorOptions {
  store: ArtifactStorage;
  /** Datasets; default a resolver over `store`. */
  datasets?: DatasetResolver;
  cifar10Dir?: string;
}

/** Lets other work (heartbeats, cancellation) run, then stops when the call was aborted. */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    throw reason instanceof Error ? reason : new Error('the compute call was cancelled');
  }
}

/**
 * The compute calls in this process with TensorFlow.js (whatever backend is active), computed
 * exactly as @ippro/pruning computes them and as the gRPC worker (@ippro/compute) does: the
 * same accumulateGradStats over the same batches, the same SgdTrainer steps over the same
 * shuffled batches, the same evaluation sums. Each call builds its own model from the artifact
 * bytes and disposes it, so calls may run concurrently.
 */
export class InProcessExecutor implements ComputeExecutor {
  readonly datasets: DatasetResolver;

  constructor(private readonly options: InProcessExecutorOptions) {
    this.datasets =
      options.datasets ?? new DatasetResolver(options.store, options.cifar10Dir === undefined ? {} : { cifar10Dir: options.cifar10Dir });
  }

  private async withModel<T>(id: string, use: (model: LayersModel) => Promise<T>): Promise<T> {
    const model = await modelFromArtifact(await this.options.store.get(id));
    try {
      return await use(model);
    } finally {
      model.dispose();
    }
  }

  private async put(bytes: Uint8Array): Promise<string> {
    const key = artifactKeyOf(bytes);
    await this.options.store.put(bytes, { key });
    return key;
  }

  async computeGradStats(call: GradStatsCall, options: ComputeCallOptions = {}): Promise<GradStatsCallResult> {
    const { dataset, datasetId } = await this.datasets.resolve(call.dataset);
    checkBatchRange(dataset, call.batchSize, call.batches);
    return this.withModel(call.modelArtifactId, async (model) => {
      const graph = buildChannelGraph(model);
      const known = new Set(graph.groups.filter((group) => group.prunable).map((group) => group.id));
      call.groupIds.forEach((id, index) => {
        if (!known.has(id)) throw new ComputeInputError(`groupIds[${index}] '${id}' is not a prunable group of model ${call.modelArtifactId}`);
      });
      const stats = await accumulateGradStats(model, graph, this.batches(dataset, call, options), {
        datasetId,
        sampleStart: call.batches.start * call.batchSize,
        ...(call.groupIds.length === 0 ? {} : { groups: call.groupIds }),
        batchNormMode: call.batchNormMode,
        includeBias: call.includeBias,
        modelHash: call.modelArtifactId,
      });
      await checkpoint(options.signal);
      const bytes = serializeGradStats(stats);
      const statsArtifactId = await this.put(bytes);
      return { statsArtifactId, count: stats.count, lossSum: stats.sumLoss, groupCount: stats.header.groupIds.length, statsBytes: bytes.length };
    });
  }

  /** The shard's batches in order, as @ippro/pruning's computeShard reads them, with a checkpoint before each. */
  private async *batches(dataset: LabeledDataset, call: GradStatsCall, options: ComputeCallOptions): AsyncGenerator<ScoringBatch> {
    const total = call.batches.end - call.batches.start;
    let samples = 0;
    for (let index = call.batches.start; index < call.batches.end; index += 1) {
      await checkpoint(options.signal);
      const batch = batchAt(dataset, { batchSize: call.batchSize, index });
      try {
        yield { inputs: batch.x, labels: batch.y };
      } finally {
        batch.dispose();
      }
      samples += batch.labels.length;
      options.onProgress?.({ done: index - call.batches.start + 1, total, samples });
    }
  }

  async fineTune(call: FineTuneCall, options: ComputeCallOptions = {}): Promise<FineTuneCallResult> {
    if (!Number.isInteger(call.steps) || call.steps < 1) throw new ComputeInputError(`steps must be at least 1, got ${call.steps}`);
    if (!(call.optimizer.learningRate > 0)) throw new ComputeInputError(`learningRate must be a positive number, got ${call.optimizer.learningRate}`);
    const { dataset: whole } = await this.datasets.resolve(call.dataset);
    const data = shardDataset(whole, replicaRange(whole, call.batchSize, call.replica), call.batchSize);
    if (call.augment && data.sampleShape.length !== 3) {
      throw new ComputeInputError(`augment needs [height, width, channels] images, but ${whole.description} has samples of shape [${data.sampleShape.join(', ')}]`);
    }
    return this.withModel(call.startModelArtifactId, async (model) => {
      const settings = { ...call.optimizer, steps: call.steps, batchSize: call.batchSize, seed: call.seed, firstStep: call.firstStep, augment: call.augment };
      const { samples, lossSum } = await fineTuneWithHooks(model, data, settings, {
        beforeStep: () => checkpoint(options.signal),
        afterStep: (done, samplesSoFar) => options.onProgress?.({ done, total: call.steps, samples: samplesSoFar }),
      });
      await checkpoint(options.signal);
      const modelArtifactId = await this.put(modelToArtifact(model));
      return { modelArtifactId, sampleCount: samples, steps: call.steps, lossSum };
    });
  }

  async evaluate(call: EvaluateCall, options: ComputeCallOptions = {}): Promise<EvaluateCallResult> {
    const { dataset } = await this.datasets.resolve(call.dataset);
    checkBatchRange(dataset, call.batchSize, call.batches);
    return this.withModel(call.modelArtifactId, async (model) => {
      const parts: EvaluationSums[] = [];
      for (let index = call.batches.start; index < call.batches.end; index += 1) {
        await checkpoint(options.signal);
        for (const batch of datasetBatches(dataset, { start: index, end: index + 1 }, { batchSize: call.batchSize })) {
          parts.push(evaluateBatches(model, [batch]));
        }
        const sums = mergeEvaluations(parts);
        options.onProgress?.({ done: index - call.batches.start + 1, total: call.batches.end - call.batches.start, samples: sums.count });
      }
      return mergeEvaluations(parts);
    });
  }
}
