import type { protocol } from '@ippro/protocol';
import { ComputeInputError } from '@ippro/compute-core';
import type {
  BatchNormStatisticsCall,
  BatchNormStatisticsCallResult,
  ComputeProgress,
  EvaluateCall,
  EvaluateCallResult,
  FineTuneCall,
  FineTuneCallResult,
  FineTuneShard,
  GradStatsCall,
  GradStatsCallResult,
  ScoreTrajectoryCall,
  ScoreTrajectoryCallResult,
} from '@ippro/compute-core';

/**
 * The compute calls on the wire: ippro.v1.WorkerService messages to and from @ippro/compute-core's
 * typed calls. The worker maps requests to calls and results to messages; a client (the
 * orchestrator's gRPC executor) maps calls to requests and result messages back.
 */

type DatasetRef = GradStatsCall['dataset'];

function required<T>(value: T | null | undefined, field: string): T {
  if (value == null) throw new ComputeInputError(`${field} is required`);
  return value;
}

function datasetRefOf(spec: protocol.DatasetSpec__Output | null): DatasetRef {
  if (spec == null) throw new ComputeInputError('dataset is required (a spec or an artifact_id)');
  return {
    spec: spec.spec,
    ...(spec.artifactId === '' ? {} : { artifactId: spec.artifactId }),
    ...(spec.draw == null ? {} : { draw: { size: spec.draw.size, seed: spec.draw.seed } }),
  };
}

function datasetSpecOf(ref: DatasetRef): protocol.DatasetSpec {
  return { spec: ref.spec, artifactId: ref.artifactId ?? '', ...(ref.draw === undefined ? {} : { draw: ref.draw }) };
}

function criterionParamsOf(call: Pick<GradStatsCall, 'batchNormMode' | 'includeBias'>): protocol.CriterionParams {
  return { batchNormMode: call.batchNormMode === 'batch' ? 'BATCH_NORM_MODE_BATCH' : 'BATCH_NORM_MODE_INFERENCE', includeBias: call.includeBias };
}

type OutputSetting = NonNullable<GradStatsCall['output']>;

const OUTPUT_KIND_OF: Readonly<Record<protocol.OutputKind__Output, OutputSetting>> = {
  OUTPUT_KIND_UNSPECIFIED: 'auto',
  OUTPUT_KIND_PROBABILITIES: 'probabilities',
  OUTPUT_KIND_LOGITS: 'logits',
  OUTPUT_KIND_SIGMOID: 'sigmoid',
};

/** The call's output kind; an unspecified kind (an older caller) is 'auto', a kind this worker does not know is refused. */
function outputOf(kind: protocol.OutputKind__Output | undefined): OutputSetting {
  const output = OUTPUT_KIND_OF[kind ?? 'OUTPUT_KIND_UNSPECIFIED'];
  if (output === undefined) throw new ComputeInputError(`output ${String(kind)} is not an output kind this worker knows (${Object.keys(OUTPUT_KIND_OF).join(', ')})`);
  return output;
}

function outputKindOf(output: OutputSetting | undefined): protocol.OutputKind__Output {
  const entry = Object.entries(OUTPUT_KIND_OF).find(([, setting]) => setting === (output ?? 'auto'));
  if (entry === undefined) throw new ComputeInputError(`output must be one of ${Object.values(OUTPUT_KIND_OF).join(', ')}, got '${String(output)}'`);
  return entry[0] as protocol.OutputKind__Output;
}

function batchNormModeOf(criterion: protocol.CriterionParams__Output | null): GradStatsCall['batchNormMode'] {
  switch (criterion?.batchNormMode) {
    case 'BATCH_NORM_MODE_INFERENCE':
      return 'inference';
    case 'BATCH_NORM_MODE_BATCH':
      return 'batch';
    default:
      throw new ComputeInputError('criterion.batch_norm_mode must be stated (BATCH_NORM_MODE_INFERENCE or BATCH_NORM_MODE_BATCH)');
  }
}

export function gradStatsCallOf(request: protocol.ComputeGradStatsRequest__Output): GradStatsCall {
  return {
    jobId: request.jobId,
    modelArtifactId: request.modelArtifactId,
    dataset: datasetRefOf(request.dataset),
    batches: required(request.batches, 'batches'),
    batchSize: request.batchSize,
    groupIds: request.groupIds,
    batchNormMode: batchNormModeOf(request.criterion),
    includeBias: request.criterion?.includeBias ?? false,
    output: outputOf(request.output),
  };
}

/** The fields a scoring and an evaluation request share: the model, the data, the batches, the output kind. */
function batchRequestOf(call: EvaluateCall): protocol.EvaluateRequest {
  return {
    jobId: call.jobId,
    modelArtifactId: call.modelArtifactId,
    dataset: datasetSpecOf(call.dataset),
    batches: call.batches,
    batchSize: call.batchSize,
    output: outputKindOf(call.output),
  };
}

export function gradStatsRequestOf(call: GradStatsCall): protocol.ComputeGradStatsRequest {
  return {
    ...batchRequestOf(call),
    groupIds: call.groupIds,
    criterion: criterionParamsOf(call),
  };
}

/** The result message; its sample range is the call's: [start * batchSize, + count). */
export function gradStatsResultMessage(call: GradStatsCall, result: GradStatsCallResult): protocol.ComputeGradStatsResult {
  const sampleStart = call.batches.start * call.batchSize;
  const { statsArtifactId, count, lossSum, groupCount, statsBytes } = result;
  return { statsArtifactId, summary: { count, lossSum, groupCount, sampleStart, sampleEnd: sampleStart + count, statsBytes } };
}

export function gradStatsResultOf(message: protocol.ComputeGradStatsResult__Output): GradStatsCallResult {
  const summary = message.summary;
  return {
    statsArtifactId: message.statsArtifactId,
    count: Number(summary?.count ?? 0),
    lossSum: summary?.lossSum ?? 0,
    groupCount: summary?.groupCount ?? 0,
    statsBytes: Number(summary?.statsBytes ?? 0),
  };
}

function fineTuneShardOf(request: protocol.FineTuneRequest__Output): FineTuneShard {
  if (request.shard === 'replica' && request.replica != null) return { replica: { index: request.replica.index, count: request.replica.count } };
  if (request.shard === 'batches') return { batches: required(request.batches, 'batches') };
  throw new ComputeInputError('shard is required: replica or batches');
}

export function fineTuneCallOf(request: protocol.FineTuneRequest__Output): FineTuneCall {
  const { learningRate, momentum, nesterov, weightDecay, labelSmoothing, cosineDecay, adamw } = required(request.optimizer, 'optimizer');
  return {
    ...fineTuneShardOf(request),
    jobId: request.jobId,
    startModelArtifactId: request.startModelArtifactId,
    dataset: datasetRefOf(request.dataset),
    batchSize: request.batchSize,
    steps: request.steps,
    firstStep: request.firstStep,
    optimizer: { learningRate, momentum, nesterov, weightDecay, labelSmoothing, ...(cosineDecay == null ? {} : { cosineDecay }), ...(adamw == null ? {} : { adamw }) },
    seed: request.seed,
    augment: request.augment,
    output: outputOf(request.output),
    ...(request.distillation == null ? {} : { distillation: { ...request.distillation } }),
  };
}

export function fineTuneRequestOf(call: FineTuneCall): protocol.FineTuneRequest {
  return {
    ...(call.replica === undefined ? { batches: call.batches } : { replica: call.replica }),
    jobId: call.jobId,
    startModelArtifactId: call.startModelArtifactId,
    dataset: datasetSpecOf(call.dataset),
    batchSize: call.batchSize,
    steps: call.steps,
    firstStep: call.firstStep,
    optimizer: call.optimizer,
    seed: call.seed,
    augment: call.augment,
    output: outputKindOf(call.output),
    ...(call.distillation === undefined ? {} : { distillation: call.distillation }),
  };
}

export function fineTuneResultOf(message: protocol.FineTuneResult__Output): FineTuneCallResult {
  return { modelArtifactId: message.modelArtifactId, sampleCount: Number(message.sampleCount), steps: message.steps, lossSum: message.lossSum };
}

export function evaluateCallOf(request: protocol.EvaluateRequest__Output): EvaluateCall {
  return {
    jobId: request.jobId,
    modelArtifactId: request.modelArtifactId,
    dataset: datasetRefOf(request.dataset),
    batches: required(request.batches, 'batches'),
    batchSize: request.batchSize,
    output: outputOf(request.output),
  };
}

export function evaluateRequestOf(call: EvaluateCall): protocol.EvaluateRequest {
  return batchRequestOf(call);
}

export function evaluateResultOf(message: protocol.EvaluateResult__Output): EvaluateCallResult {
  return { correct: Number(message.correct), lossSum: message.lossSum, count: Number(message.count) };
}

export function batchNormStatisticsCallOf(request: protocol.ComputeBatchNormStatisticsRequest__Output): BatchNormStatisticsCall {
  return {
    jobId: request.jobId,
    modelArtifactId: request.modelArtifactId,
    dataset: datasetRefOf(request.dataset),
    batches: required(request.batches, 'batches'),
    batchSize: request.batchSize,
    seed: request.seed,
    output: outputOf(request.output),
  };
}

export function batchNormStatisticsRequestOf(call: BatchNormStatisticsCall): protocol.ComputeBatchNormStatisticsRequest {
  return { jobId: call.jobId, modelArtifactId: call.modelArtifactId, dataset: datasetSpecOf(call.dataset), batches: call.batches, batchSize: call.batchSize, seed: call.seed, output: outputKindOf(call.output) };
}

export function batchNormStatisticsResultOf(message: protocol.ComputeBatchNormStatisticsResult__Output): BatchNormStatisticsCallResult {
  return { statsArtifactId: message.statsArtifactId, batches: message.batches, samples: Number(message.samples) };
}

function orderOf(order: protocol.RemovalOrder__Output): ScoreTrajectoryCall['order'] {
  switch (order) {
    case 'REMOVAL_ORDER_ASCENDING':
      return 'ascending';
    case 'REMOVAL_ORDER_DESCENDING':
      return 'descending';
    default:
      throw new ComputeInputError('order must be stated (REMOVAL_ORDER_ASCENDING or REMOVAL_ORDER_DESCENDING)');
  }
}

export function trajectoryScoresCallOf(request: protocol.ComputeTrajectoryScoresRequest__Output): ScoreTrajectoryCall {
  return {
    jobId: request.jobId,
    modelArtifactId: request.modelArtifactId,
    dataset: datasetRefOf(request.dataset),
    batchSize: request.batchSize,
    steps: request.steps,
    learningRate: request.learningRate,
    momentum: request.momentum,
    weightDecay: request.weightDecay,
    batchNormMode: batchNormModeOf(request.criterion),
    includeBias: request.criterion?.includeBias ?? false,
    order: orderOf(request.order),
    output: outputOf(request.output),
  };
}

export function trajectoryScoresRequestOf(call: ScoreTrajectoryCall): protocol.ComputeTrajectoryScoresRequest {
  return {
    jobId: call.jobId,
    modelArtifactId: call.modelArtifactId,
    dataset: datasetSpecOf(call.dataset),
    batchSize: call.batchSize,
    steps: call.steps,
    learningRate: call.learningRate,
    momentum: call.momentum,
    weightDecay: call.weightDecay,
    criterion: criterionParamsOf(call),
    order: call.order === 'descending' ? 'REMOVAL_ORDER_DESCENDING' : 'REMOVAL_ORDER_ASCENDING',
    output: outputKindOf(call.output),
  };
}

export function trajectoryScoresResultOf(message: protocol.ComputeTrajectoryScoresResult__Output): ScoreTrajectoryCallResult {
  return { scoresArtifactId: message.scoresArtifactId, groupCount: message.groupCount };
}

export function progressOf(message: protocol.Progress__Output): ComputeProgress {
  return { done: message.done, total: message.total, samples: Number(message.samples), meanLoss: message.meanLoss };
}
