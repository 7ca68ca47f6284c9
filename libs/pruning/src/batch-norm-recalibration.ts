import * as tf from '@tensorflow/tfjs-core';
import { batchAt, batchCount } from '@ippro/data';
import type { LabeledDataset, TensorBatch } from '@ippro/data';
import { applyWithTaps, batchNormalizationLayers, isBatchNormalization } from '@ippro/graph';
import type { LayerTap } from '@ippro/graph';
import { findLayerWeight, preserveBatchNormStatistics } from '@ippro/importance';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { BatchRange } from './batch-shards';

/**
 * Batch-norm recalibration: every BatchNormalization's moving mean and variance re-estimated after
 * surgery from N batches in training mode, with no weight update.
 *
 * In training mode each batch normalisation normalises its input with that batch's own mean and
 * variance, so no layer's input depends on the moving statistics being estimated: one forward pass
 * per batch gives every layer's batch statistics at once. They are kept batch by batch (the mean
 * and the biased variance, as tf.moments and the layer's training-mode normalisation compute them),
 * so a pass split into batch shards and concatenated in shard order holds exactly the numbers of
 * one pass. The estimate is their cumulative average weighted by batch size, summed in batch order
 * in float64: with batches of equal size, PyTorch's `momentum=None` estimate, except that PyTorch
 * averages unbiased batch variances. The biased variance is what the layer divides by in training
 * mode, and at inference it divides by the moving variance: so the recalibrated model normalises
 * every channel as training mode does on average.
 */

/** Every BatchNormalization's batch statistics over a pass, batch by batch. */
export interface BatchNormStatistics {
  /** The BatchNormalization layers in model order, with their channel counts. */
  layers: { name: string; channels: number }[];
  /** In pass order: the batch's size and, per layer (in `layers` order), the mean and variance of each channel. */
  batches: { size: number; mean: number[][]; variance: number[][] }[];
}

/** A BatchNormalization layer and where its input comes from. */
interface Site {
  name: string;
  axis: number;
  channels: number;
  /** The layer whose output it normalises; undefined when it normalises the model's input. */
  source: string | undefined;
}

function sitesOf(model: LayersModel): Site[] {
  return batchNormalizationLayers(model).map((layer) => {
      const nodes = layer.inboundNodes;
      if (nodes.length !== 1) throw new Error(`BatchNormalization layer '${layer.name}' is called ${nodes.length} times; recalibration needs one call per layer`);
      const node = nodes[0] as (typeof nodes)[number];
      const producer = node.inboundLayers[0];
      if (producer === undefined || node.inboundLayers.length !== 1) throw new Error(`BatchNormalization layer '${layer.name}' does not have exactly one input`);
      const config = layer.getConfig() as { axis?: number };
      const channels = findLayerWeight(layer, 'moving_mean').shape[0] ?? 0;
      return { name: layer.name, axis: config.axis ?? -1, channels, source: producer.getClassName() === 'InputLayer' ? undefined : producer.name };
    });
}

/** The channel mean and variance of `input` over every axis but the layer's, kept (the caller disposes them). */
function momentsOf(input: tf.Tensor, site: Site): [tf.Tensor, tf.Tensor] {
  const axis = site.axis < 0 ? site.axis + input.rank : site.axis;
  const reduced = Array.from({ length: input.rank }, (_, index) => index).filter((index) => index !== axis);
  const { mean, variance } = tf.moments(input, reduced);
  return [tf.keep(mean), tf.keep(variance)];
}

/** Batch normalisation in training mode (batch statistics); every other layer, dropout included, as at inference. */
const batchNormTraining = isBatchNormalization;

/**
 * The batch statistics of every BatchNormalization layer over `batches` (model inputs, one batch
 * each, in order), one forward pass per batch with batch normalisation in training mode and
 * dropout off, as at inference (whose inputs the moving statistics serve; it also keeps the pass
 * deterministic). The model is left as it was (its moving statistics, which training mode moves,
 * are restored).
 */
export async function batchNormStatistics(
  model: LayersModel,
  batches: Iterable<tf.Tensor> | AsyncIterable<tf.Tensor>,
): Promise<BatchNormStatistics> {
  const sites = sitesOf(model);
  const stats: BatchNormStatistics = { layers: sites.map(({ name, channels }) => ({ name, channels })), batches: [] };
  if (sites.length === 0) return stats;
  const restore = preserveBatchNormStatistics(model);
  try {
    for await (const inputs of batches) {
      const captured = new Map<string, [tf.Tensor, tf.Tensor]>();
      const taps = new Map<string, LayerTap>();
      for (const site of sites) {
        if (site.source === undefined) {
          captured.set(site.name, momentsOf(inputs, site));
          continue;
        }
        const previous = taps.get(site.source);
        taps.set(site.source, (output) => {
          const passed = previous === undefined ? output : previous(output);
          captured.set(site.name, momentsOf(passed, site));
          return passed;
        });
      }
      try {
        tf.dispose(applyWithTaps(model, inputs, taps, { training: batchNormTraining }));
        const read = (index: 0 | 1): number[][] => sites.map((site) => Array.from((captured.get(site.name) as [tf.Tensor, tf.Tensor])[index].dataSync()));
        stats.batches.push({ size: inputs.shape[0] ?? 0, mean: read(0), variance: read(1) });
      } finally {
        for (const moments of captured.values()) tf.dispose(moments);
      }
    }
  } finally {
    restore();
  }
  return stats;
}

/** The statistics of consecutive batch shards as one pass: their batches in shard order. */
export function concatBatchNormStatistics(parts: readonly BatchNormStatistics[]): BatchNormStatistics {
  const first = parts[0];
  if (first === undefined) throw new Error('no batch-norm statistics to concatenate');
  const layout = JSON.stringify(first.layers);
  parts.forEach((part, index) => {
    if (JSON.stringify(part.layers) !== layout) throw new Error(`batch-norm statistics part ${index} covers other layers than part 0`);
  });
  return { layers: first.layers, batches: parts.flatMap((part) => part.batches) };
}

/** Per layer: sum_b n_b mean_b / N and sum_b n_b variance_b / N, summed in batch order in float64. */
export function recalibratedMoments(stats: BatchNormStatistics): { name: string; mean: Float64Array; variance: Float64Array }[] {
  const total = stats.batches.reduce((sum, batch) => sum + batch.size, 0);
  if (total === 0) throw new Error('the batch-norm statistics hold no samples');
  return stats.layers.map(({ name, channels }, layer) => {
    const mean = new Float64Array(channels);
    const variance = new Float64Array(channels);
    for (const batch of stats.batches) {
      for (let channel = 0; channel < channels; channel += 1) {
        mean[channel] += batch.size * (batch.mean[layer]?.[channel] ?? Number.NaN);
        variance[channel] += batch.size * (batch.variance[layer]?.[channel] ?? Number.NaN);
      }
    }
    return { name, mean: mean.map((value) => value / total), variance: variance.map((value) => value / total) };
  });
}

/** Writes the recalibrated moving mean and variance (float32) into every BatchNormalization layer of `model`. */
export function applyBatchNormStatistics(model: LayersModel, stats: BatchNormStatistics): void {
  const sites = sitesOf(model);
  const expected = JSON.stringify(sites.map(({ name, channels }) => ({ name, channels })));
  if (JSON.stringify(stats.layers) !== expected) {
    throw new Error(`the batch-norm statistics cover layers ${stats.layers.map((layer) => `${layer.name}(${layer.channels})`).join(', ') || 'none'}, not the model's`);
  }
  if (sites.length === 0) return;
  for (const { name, mean, variance } of recalibratedMoments(stats)) {
    const layer = model.getLayer(name);
    tf.tidy(() => {
      findLayerWeight(layer, 'moving_mean').assign(tf.tensor1d(Float32Array.from(mean)));
      findLayerWeight(layer, 'moving_variance').assign(tf.tensor1d(Float32Array.from(variance)));
    });
  }
}

/**
 * Batch i of a recalibration pass: batch i mod B of the seeded epoch floor(i / B) shuffle of the
 * data (B batches per epoch), without augmentation. One batch in memory at a time.
 */
export function* recalibrationBatches(dataset: LabeledDataset, range: BatchRange, batchSize: number, seed: number): Generator<TensorBatch> {
  const perEpoch = batchCount(dataset, batchSize);
  for (let step = range.start; step < range.end; step += 1) {
    const batch = batchAt(dataset, { batchSize, index: step % perEpoch, epoch: Math.floor(step / perEpoch), seed, shuffle: true, augment: false });
    try {
      yield batch;
    } finally {
      batch.dispose();
    }
  }
}

/** Recalibrates `model` in place on batches [0, batches) of `dataset` (the whole pass in one process). */
export async function recalibrateBatchNorm(model: LayersModel, dataset: LabeledDataset, settings: { batches: number; batchSize: number; seed: number }): Promise<BatchNormStatistics> {
  const inputs = mapBatches(recalibrationBatches(dataset, { start: 0, end: settings.batches }, settings.batchSize, settings.seed));
  const stats = await batchNormStatistics(model, inputs);
  applyBatchNormStatistics(model, stats);
  return stats;
}

function* mapBatches(batches: Iterable<TensorBatch>): Generator<tf.Tensor> {
  for (const batch of batches) yield batch.x;
}

const FORMAT = 'ippro.batch-norm-statistics';
const VERSION = 1;

/** The statistics as a JSON artifact (float32 values and sizes are exact JSON numbers). */
export function serializeBatchNormStatistics(stats: BatchNormStatistics): Buffer {
  return Buffer.from(JSON.stringify({ format: FORMAT, version: VERSION, layers: stats.layers, batches: stats.batches }), 'utf8');
}

export function deserializeBatchNormStatistics(bytes: Uint8Array): BatchNormStatistics {
  let document: { format?: unknown; version?: unknown; layers?: unknown; batches?: unknown };
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof document;
  } catch (error) {
    throw new Error(`batch-norm statistics: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (document.format !== FORMAT || document.version !== VERSION) throw new Error(`batch-norm statistics: expected format ${FORMAT} version ${VERSION}`);
  const stats = document as BatchNormStatistics;
  const shapeOk =
    Array.isArray(stats.layers) &&
    stats.layers.every((layer) => typeof layer.name === 'string' && Number.isSafeInteger(layer.channels)) &&
    Array.isArray(stats.batches) &&
    stats.batches.every(
      (batch) =>
        Number.isSafeInteger(batch.size) &&
        batch.size > 0 &&
        [batch.mean, batch.variance].every((values) => Array.isArray(values) && values.length === stats.layers.length && values.every((row, layer) => Array.isArray(row) && row.length === stats.layers[layer]?.channels)),
    );
  if (!shapeOk) throw new Error('batch-norm statistics: the layers and batches do not match');
  return { layers: stats.layers, batches: stats.batches };
}
