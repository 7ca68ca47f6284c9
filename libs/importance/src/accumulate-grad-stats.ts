import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph } from '@ippro/graph';
import { classificationLoss, classifierHead, lossOptionsOf } from '@ippro/models';
import type { ClassifierHead, OutputSetting } from '@ippro/models';
import { applyWithTaps } from '@ippro/graph';
import type { LayerTap } from '@ippro/graph';
import type { BatchNormMode, BatchStats, GradStats, InjectionPoint } from './grad-stats';
import type { GroupLayout } from './group-layout';
import { checkInjectionPoints, layoutGroup, selectGroups } from './group-layout';
import { readGroupVectors } from './group-weights';
import { InjectedScales } from './injected-scales';
import { computeModelHash } from './model-hash';
import { locateNonFinite } from './non-finite-diagnosis';
import { preserveBatchNormStatistics } from './batch-norm-statistics';

/** One batch of scoring data. The caller owns (and disposes) its tensors. */
export interface ScoringBatch {
  /** The model's input(s), batch first. */
  inputs: tf.Tensor | tf.Tensor[];
  /** Integer class indices [n] or one-hot targets [n, classes]. */
  labels: tf.Tensor;
}

export interface AccumulateGradStatsOptions {
  /** Identifies the scoring data set in the stats header. */
  datasetId: string;
  /** Dataset index of the first sample of the first batch. Default 0. */
  sampleStart?: number;
  /** Restrict the accumulated groups (a layer shard); default every prunable group. */
  groups?: readonly string[];
  /** 'inference' (default): moving statistics, dropout off. 'batch': batch statistics. */
  batchNormMode?: BatchNormMode;
  /** Include each unit's bias in F_g and G_g. Default false. */
  includeBias?: boolean;
  /** Where the scales are injected; default 'element-wise' (IPPRO.md §1). */
  injectionPoint?: InjectionPoint;
  /** The model's identity in the header; default computeModelHash(model). */
  modelHash?: string;
  /** The model's output kind, which picks the loss (@ippro/models); default 'auto' (read from the model). */
  output?: OutputSetting;
}

/** What one forward+backward pass of a batch yields, already copied out of tensors. */
interface BatchGradients {
  loss: number;
  /** dL/dscale per injection layer. */
  scaleGradients: Map<string, Float32Array>;
  /** dL/dweight per weight variable (by variable name). */
  weightGradients: Map<string, Float32Array>;
}

interface PassContext {
  model: LayersModel;
  head: ClassifierHead;
  graph: ChannelGraph;
  layouts: GroupLayout[];
  scales: InjectedScales;
  weightVariables: tf.Variable[];
  training: boolean;
}

function batchRangeText(start: number, size: number): string {
  return `[${start}, ${start + size})`;
}

export function batchSize(batch: ScoringBatch): number {
  const first = Array.isArray(batch.inputs) ? batch.inputs[0] : batch.inputs;
  if (first === undefined || first.rank < 1 || first.shape[0] < 1) {
    throw new Error('a scoring batch must hold at least one sample');
  }
  return first.shape[0];
}

export function singleOutput(output: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (!Array.isArray(output)) {
    return output;
  }
  if (output.length !== 1) {
    throw new Error(`the model has ${output.length} outputs; scoring supports one classifier output`);
  }
  return output[0];
}

/**
 * The loss scoring differentiates: the model run call by call with the taps (applyWithTaps on the
 * head's body), then the head's loss for its output kind.
 */
export function tappedLoss(head: ClassifierHead, batch: ScoringBatch, taps: ReadonlyMap<string, LayerTap>, training: boolean): tf.Scalar {
  const output = applyWithTaps(head.body, batch.inputs, taps, { training });
  return classificationLoss(head.finish(singleOutput(output)), batch.labels, lossOptionsOf(head));
}

/** Each variable's gradient as values, keyed like `names`. */
export function readGradients(
  names: ReadonlyMap<string, tf.Variable>,
  grads: tf.NamedTensorMap,
): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const [key, variable] of names) {
    const gradient = grads[variable.name] as tf.Tensor | undefined;
    // No path from the loss to the variable means its gradient is exactly zero.
    values.set(key, gradient === undefined ? new Float32Array(variable.size) : (gradient.dataSync() as Float32Array));
  }
  return values;
}

function forwardBackward(context: PassContext, batch: ScoringBatch): BatchGradients {
  const scaleVariables = context.scales.variables;
  const weightVariables = new Map(context.weightVariables.map((variable) => [variable.name, variable]));
  const varList = [...scaleVariables.values(), ...context.weightVariables];
  const taps = context.scales.taps();
  let result: BatchGradients | undefined;
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tappedLoss(context.head, batch, taps, context.training), varList);
    result = {
      loss: value.dataSync()[0],
      scaleGradients: readGradients(scaleVariables, grads),
      weightGradients: readGradients(weightVariables, grads),
    };
  });
  if (result === undefined) {
    throw new Error('internal: the gradient pass produced no result');
  }
  return result;
}

function firstNonFinite(values: Float32Array): number {
  return values.findIndex((value) => !Number.isFinite(value));
}

function checkFinite(context: PassContext, batch: ScoringBatch, gradients: BatchGradients, range: string): void {
  if (!Number.isFinite(gradients.loss)) {
    const where = locateNonFinite(context.model, context.graph, batch.inputs, context.training);
    throw new Error(`non-finite loss (${gradients.loss}) on samples ${range}: first non-finite value at ${where}`);
  }
  for (const [layer, values] of gradients.scaleGradients) {
    const bad = firstNonFinite(values);
    if (bad >= 0) {
      throw new Error(`non-finite gradient at the output of layer '${layer}' (channel ${bad}) on samples ${range}`);
    }
  }
  for (const layout of context.layouts) {
    for (const slice of layout.slices) {
      const bad = firstNonFinite(gradients.weightGradients.get(slice.variable.name) ?? new Float32Array());
      if (bad >= 0) {
        throw new Error(`non-finite gradient of layer '${slice.layer}' ${slice.weightName} on samples ${range}`);
      }
    }
  }
}

/** r_g = dL/ds_g: the sum over the group's distinct injection channels of dL/dscale. */
export function injectedR(layout: GroupLayout, scaleGradients: ReadonlyMap<string, Float32Array>): number {
  let r = 0;
  for (const { layer, channel } of layout.injection) {
    r += (scaleGradients.get(layer) as Float32Array)[channel];
  }
  return r;
}

/** The per-batch part of a pass in progress. F_g is read once: every batch needs F_g . G_b,g. */
interface BatchAccumulator {
  f: Float64Array[];
  sizes: number[];
  fDotG: number[][];
  gSquaredNorm: number[][];
  r: number[][];
  sumSquaredG: Float64Array[];
}

function batchAccumulator(layouts: readonly GroupLayout[]): BatchAccumulator {
  return {
    f: readGroupVectors(layouts),
    sizes: [],
    fDotG: layouts.map(() => []),
    gSquaredNorm: layouts.map(() => []),
    r: layouts.map(() => []),
    sumSquaredG: layouts.map((layout) => new Float64Array(layout.fSize)),
  };
}

function finishBatchStats(accumulator: BatchAccumulator): BatchStats {
  return {
    sizes: accumulator.sizes,
    fDotG: accumulator.fDotG.map((values) => Float64Array.from(values)),
    gSquaredNorm: accumulator.gSquaredNorm.map((values) => Float64Array.from(values)),
    r: accumulator.r.map((values) => Float64Array.from(values)),
    sumSquaredG: accumulator.sumSquaredG,
  };
}

/**
 * Adds n * (batch-mean gradients) = the batch's per-sample sums, in group and slice order, and
 * records the batch's own scalars and squared gradients.
 */
function addBatchSums(context: PassContext, gradients: BatchGradients, size: number, stats: GradStats, batches: BatchAccumulator): void {
  batches.sizes.push(size);
  context.layouts.forEach((layout, groupIndex) => {
    const sumG = stats.sumG[groupIndex];
    const sumSquaredG = batches.sumSquaredG[groupIndex];
    const f = batches.f[groupIndex];
    let fDotG = 0;
    let gSquaredNorm = 0;
    let offset = 0;
    for (const slice of layout.slices) {
      const values = gradients.weightGradients.get(slice.variable.name) as Float32Array;
      for (const index of slice.indices) {
        const g = values[index];
        sumG[offset] += g * size;
        sumSquaredG[offset] += g * g * size;
        fDotG += f[offset] * g;
        gSquaredNorm += g * g;
        offset++;
      }
    }
    const r = injectedR(layout, gradients.scaleGradients);
    stats.sumR[groupIndex] += r * size;
    batches.fDotG[groupIndex].push(fDotG);
    batches.gSquaredNorm[groupIndex].push(gSquaredNorm);
    batches.r[groupIndex].push(r);
  });
}

function distinctWeightVariables(layouts: readonly GroupLayout[]): tf.Variable[] {
  const variables = new Map<string, tf.Variable>();
  for (const slice of layouts.flatMap((layout) => layout.slices)) {
    variables.set(slice.variable.name, slice.variable);
  }
  return [...variables.values()];
}

function emptyStats(layouts: readonly GroupLayout[], options: AccumulateGradStatsOptions, modelHash: string): GradStats {
  const start = options.sampleStart ?? 0;
  return {
    header: {
      modelHash,
      datasetId: options.datasetId,
      sampleRange: [start, start],
      groupIds: layouts.map((layout) => layout.group.id),
      fSizes: layouts.map((layout) => layout.fSize),
      includeBias: options.includeBias ?? false,
      batchNormMode: options.batchNormMode ?? 'inference',
      // Only the non-default point is recorded, so default stats keep their exact bytes.
      ...(options.injectionPoint === 'producer' ? { injectionPoint: 'producer' as const } : {}),
    },
    count: 0,
    sumLoss: 0,
    sumG: layouts.map((layout) => new Float64Array(layout.fSize)),
    sumR: new Float64Array(layouts.length),
  };
}

/**
 * Temporarily marks the variables trainable: tf.variableGrads silently skips frozen ones,
 * and scoring needs the gradient of every unit's kernel whether or not it is trained.
 */
function makeTrainable(variables: readonly tf.Variable[]): () => void {
  const frozen = variables.filter((variable) => !variable.trainable);
  frozen.forEach((variable) => (variable.trainable = true));
  return () => frozen.forEach((variable) => (variable.trainable = false));
}

export function checkBatchNormMode(mode: BatchNormMode): void {
  if (mode !== 'inference' && mode !== 'batch') {
    throw new Error(`batchNormMode must be 'inference' or 'batch', got '${String(mode)}'`);
  }
}

function checkOptions(options: AccumulateGradStatsOptions): void {
  if (typeof options.datasetId !== 'string' || options.datasetId.length === 0) {
    throw new Error('datasetId must be a non-empty string identifying the scoring data');
  }
  const start = options.sampleStart ?? 0;
  if (!Number.isInteger(start) || start < 0) {
    throw new Error(`sampleStart must be a non-negative integer, got ${start}`);
  }
  checkBatchNormMode(options.batchNormMode ?? 'inference');
  const point = options.injectionPoint ?? 'element-wise';
  if (point !== 'element-wise' && point !== 'producer') {
    throw new Error(`injectionPoint must be 'element-wise' or 'producer', got '${String(point)}'`);
  }
}

/**
 * Gradient statistics of IPPRO.md §2-4 over a sequence of batches: per batch one forward and
 * one backward pass with all-ones scales injected at every injection point, accumulating
 * per-sample sums of dL/dF_g and r_g = dL/ds_g in float64, batches in the order given, and
 * each batch's own scalars for the per-batch readings (BatchStats).
 */
export async function accumulateGradStats(
  model: LayersModel,
  graph: ChannelGraph,
  batches: Iterable<ScoringBatch> | AsyncIterable<ScoringBatch>,
  options: AccumulateGradStatsOptions,
): Promise<GradStats> {
  checkOptions(options);
  const includeBias = options.includeBias ?? false;
  const groups = selectGroups(graph, options.groups);
  const point = options.injectionPoint ?? 'element-wise';
  groups.forEach((group) => checkInjectionPoints(model, group, point));
  const layouts = groups.map((group) => layoutGroup(model, group, includeBias, point));
  const stats = emptyStats(layouts, options, options.modelHash ?? computeModelHash(model));
  const perBatch = batchAccumulator(layouts);
  const training = stats.header.batchNormMode === 'batch';
  const scales = new InjectedScales(graph, layouts);
  const weightVariables = distinctWeightVariables(layouts);
  const restoreTrainable = makeTrainable(weightVariables);
  const restoreStatistics = training ? preserveBatchNormStatistics(model) : () => undefined;
  const context: PassContext = { model, head: classifierHead(model, options.output ?? 'auto'), graph, layouts, scales, weightVariables, training };
  try {
    for await (const batch of batches) {
      const size = batchSize(batch);
      const gradients = forwardBackward(context, batch);
      checkFinite(context, batch, gradients, batchRangeText(stats.header.sampleRange[1], size));
      addBatchSums(context, gradients, size, stats, perBatch);
      stats.sumLoss += gradients.loss * size;
      stats.count += size;
      stats.header.sampleRange[1] += size;
    }
  } finally {
    restoreStatistics();
    restoreTrainable();
    scales.dispose();
  }
  return { ...stats, batches: finishBatchStats(perBatch) };
}
