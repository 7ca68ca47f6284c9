import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph } from '@ippro/graph';
import { classifierHead, decayedKernels, disposeMomentumOptimizer, withWeightDecay } from '@ippro/models';
import type { ClassifierHead, OutputSetting } from '@ippro/models';
import type { ScoringBatch } from './accumulate-grad-stats';
import { batchSize, checkBatchNormMode, injectedR, readGradients, tappedLoss } from './accumulate-grad-stats';
import { preserveBatchNormStatistics } from './batch-norm-statistics';
import type { BatchNormMode } from './grad-stats';
import type { GroupLayout } from './group-layout';
import { checkInjectionPoints, layoutGroup, selectGroups } from './group-layout';
import { readGroupVectors } from './group-weights';
import { InjectedScales } from './injected-scales';
import type { ScoreReadingOptions } from './proscore';
import { DEFAULT_DENOMINATOR_EPSILON, checkNonNegative, checkPositive, orderedTable, projectiveRatio, removalOrder } from './proscore';
import type { ScoreRow, ScoreTable } from './score-table';
import { scoreRow } from './score-table';
import { l2Norm } from './vector-math';

export interface TrajectoryOptions extends ScoreReadingOptions {
  /** T: optimizer steps, one batch of the stream each, in order. */
  steps: number;
  learningRate: number;
  /** Default 0.9, as @ippro/models' SgdTrainer. */
  momentum?: number;
  /** The objective's L2 penalty weightDecay/2 * ||kernels||^2 (SgdTrainer's convention); default 0. */
  weightDecay?: number;
  /** Include each unit's bias in F_g. Default false. */
  includeBias?: boolean;
  /** 'inference' (default) or 'batch', as in the scoring pass. */
  batchNormMode?: BatchNormMode;
  /** The model's output kind (@ippro/models); default 'auto' (read from the model). */
  output?: OutputSetting;
}

interface CheckedOptions {
  steps: number;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  training: boolean;
}

function checkOptions(options: TrajectoryOptions): CheckedOptions {
  if (!Number.isInteger(options.steps) || options.steps < 1) {
    throw new Error(`steps must be a positive integer, got ${options.steps}`);
  }
  checkPositive('learningRate', options.learningRate);
  const momentum = options.momentum ?? 0.9;
  if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) {
    throw new Error(`momentum must be a number in [0, 1), got ${momentum}`);
  }
  const weightDecay = options.weightDecay ?? 0;
  checkNonNegative('weightDecay', weightDecay);
  const mode = options.batchNormMode ?? 'inference';
  checkBatchNormMode(mode);
  return { steps: options.steps, learningRate: options.learningRate, momentum, weightDecay, training: mode === 'batch' };
}

/**
 * The projective coordinate D_g of each live group (||F_g(0)|| > 0) as a trained parameter, in
 * float64: D_g starts at ||F_g(0)|| and the scale s_g = ||F_g(0)|| / D_g multiplies the group's
 * injection channels. dL/dD_g = r_g * ds_g/dD_g = -r_g ||F_g(0)|| / D_g^2, and D_g takes the
 * optimizer's step: v = momentum v + dL/dD_g, D_g -= learningRate v. Channels of dead and
 * unscored groups keep the scale 1.
 */
class TrainedLift {
  private readonly d: Float64Array;
  private readonly velocity: Float64Array;
  private readonly live: number[];

  constructor(
    private readonly layouts: readonly GroupLayout[],
    private readonly initialNorms: readonly number[],
    private readonly scales: InjectedScales,
  ) {
    this.live = layouts.map((_, index) => index).filter((index) => initialNorms[index] > 0);
    this.d = Float64Array.from(this.live, (index) => initialNorms[index]);
    this.velocity = new Float64Array(this.live.length);
  }

  /** One optimizer step of every D_g from the batch's dL/dscale. */
  step(scaleGradients: ReadonlyMap<string, Float32Array>, settings: CheckedOptions): void {
    this.live.forEach((groupIndex, position) => {
      const norm = this.initialNorms[groupIndex];
      const gradient = (-injectedR(this.layouts[groupIndex], scaleGradients) * norm) / (this.d[position] * this.d[position]);
      this.velocity[position] = settings.momentum * this.velocity[position] + gradient;
      this.d[position] -= settings.learningRate * this.velocity[position];
    });
    this.writeScales();
  }

  /** D_g(T) of a group by its layout index; undefined for a group dead at the start. */
  dOf(groupIndex: number): number | undefined {
    const position = this.live.indexOf(groupIndex);
    return position < 0 ? undefined : this.d[position];
  }

  private writeScales(): void {
    const values = new Map([...this.scales.variables].map(([layer, variable]) => [layer, new Float32Array(variable.size).fill(1)]));
    this.live.forEach((groupIndex, position) => {
      for (const { layer, channel } of this.layouts[groupIndex].injection) {
        (values.get(layer) as Float32Array)[channel] = this.initialNorms[groupIndex] / this.d[position];
      }
    });
    values.forEach((scale, layer) => this.scales.assign(layer, scale));
  }
}

/** One optimizer step of the model's weights; returns the objective and dL/dscale per injection layer. */
function stepWeights(
  batch: ScoringBatch,
  context: { head: ClassifierHead; optimizer: tf.Optimizer; trained: tf.Variable[]; decayed: tf.Variable[]; scales: InjectedScales; settings: CheckedOptions },
): { loss: number; scaleGradients: Map<string, Float32Array> } {
  const { head, optimizer, trained, decayed, scales, settings } = context;
  const taps = scales.taps();
  let result: { loss: number; scaleGradients: Map<string, Float32Array> } | undefined;
  tf.tidy(() => {
    const { value, grads } = optimizer.computeGradients(() => {
      return withWeightDecay(tappedLoss(head, batch, taps, settings.training), decayed, settings.weightDecay);
    }, [...trained, ...scales.variables.values()]);
    const loss = value.dataSync()[0];
    const scaleGradients = readGradients(scales.variables, grads);
    if (Number.isFinite(loss)) {
      const weightGradients: tf.NamedTensorMap = {};
      for (const variable of trained) {
        const gradient = grads[variable.name] as tf.Tensor | undefined;
        if (gradient !== undefined) weightGradients[variable.name] = gradient;
      }
      optimizer.applyGradients(weightGradients);
    }
    result = { loss, scaleGradients };
  });
  if (result === undefined) {
    throw new Error('internal: the trajectory step produced no result');
  }
  return result;
}

/** Copies of the variables' values; the returned function writes them back and frees them. */
function preserveValues(variables: readonly tf.Variable[]): () => void {
  const saved = variables.map((variable) => [variable, tf.clone(variable)] as const);
  return () => {
    for (const [variable, value] of saved) {
      variable.assign(value);
      value.dispose();
    }
  };
}

/**
 * PROscore read from real training (docs/ippro.md §3, reading 'trajectory'): T steps of SGD with
 * momentum (@ippro/models' convention: v = momentum v + grad, w -= lr v) on the scoring loss plus
 * the kernels' weight-decay penalty, from the lifted point, with every trainable weight and each
 * D_g trained; the score is ||F_g(T)|| / |D_g(T)| (0 for a group dead at the start, +Infinity when
 * |D_g(T)| < epsilon ||F_g(0)||). Batch t of the stream drives step t: sequential, so it cannot be
 * sharded by batch. Every prunable group is scored. The model is left exactly as it was.
 */
export async function proscoreTrajectory(
  model: LayersModel,
  graph: ChannelGraph,
  batches: Iterable<ScoringBatch> | AsyncIterable<ScoringBatch>,
  options: TrajectoryOptions,
): Promise<ScoreTable> {
  const settings = checkOptions(options);
  const epsilon = options.epsilon ?? DEFAULT_DENOMINATOR_EPSILON;
  checkPositive('epsilon', epsilon);
  const order = removalOrder(options);
  const groups = selectGroups(graph);
  groups.forEach((group) => checkInjectionPoints(model, group));
  const layouts = groups.map((group) => layoutGroup(model, group, options.includeBias ?? false));
  const norms = readGroupVectors(layouts).map(l2Norm);
  const trained = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const scales = new InjectedScales(graph, layouts);
  const restoreWeights = preserveValues(trained);
  const restoreStatistics = settings.training ? preserveBatchNormStatistics(model) : () => undefined;
  const lift = new TrainedLift(layouts, norms, scales);
  const optimizer = tf.train.momentum(settings.learningRate, settings.momentum, false);
  const context = { head: classifierHead(model, options.output ?? 'auto'), optimizer, trained, decayed: decayedKernels(model), scales, settings };
  try {
    let step = 0;
    let sample = 0;
    for await (const batch of batches) {
      const size = batchSize(batch);
      const { loss, scaleGradients } = stepWeights(batch, context);
      if (!Number.isFinite(loss)) {
        throw new Error(`non-finite objective (${loss}) at trajectory step ${step + 1} on samples [${sample}, ${sample + size}) of the stream`);
      }
      lift.step(scaleGradients, settings);
      sample += size;
      if (++step === settings.steps) break;
    }
    if (step < settings.steps) {
      throw new Error(`the trajectory takes ${settings.steps} steps, one batch each, but the batch stream ended after ${step}`);
    }
    const moved = readGroupVectors(layouts);
    const rows: ScoreRow[] = layouts.map((layout, index) => {
      const fNorm = norms[index];
      const d = lift.dOf(index);
      const base = { ...scoreRow(layout.group, 0), fNorm };
      return d === undefined ? base : { ...base, score: projectiveRatio(layout.group.id, l2Norm(moved[index]), d, fNorm, epsilon) };
    });
    return orderedTable(rows, 'trajectory', order);
  } finally {
    restoreStatistics();
    restoreWeights();
    disposeMomentumOptimizer(optimizer);
    scales.dispose();
  }
}
