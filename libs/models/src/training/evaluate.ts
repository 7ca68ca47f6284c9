import * as tf from '@tensorflow/tfjs-core';
import { batchAt, batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { perSampleClassificationLoss } from '../loss';
import type { LabeledBatch } from './labeled-batch';

/** Sums, not means, so that shards of a dataset merge exactly by addition. */
export interface EvaluationSums {
  correct: number;
  lossSum: number;
  count: number;
}

/** Top-1 correct count and summed loss over the batches, in inference mode. */
export function evaluateBatches(model: LayersModel, batches: Iterable<LabeledBatch>): EvaluationSums {
  const sums: EvaluationSums = { correct: 0, lossSum: 0, count: 0 };
  for (const batch of batches) {
    const [correct, lossSum] = tf.tidy(() => {
      const outputs = model.apply(batch.x, { training: false }) as tf.Tensor;
      const hits = tf.equal(tf.argMax(outputs, -1), tf.argMax(batch.y, -1));
      return [tf.sum(tf.cast(hits, 'int32')), tf.sum(perSampleClassificationLoss(outputs, batch.y))];
    });
    sums.correct += correct?.dataSync()[0] ?? 0;
    sums.lossSum += lossSum?.dataSync()[0] ?? 0;
    sums.count += batch.x.shape[0] ?? 0;
    correct?.dispose();
    lossSum?.dispose();
  }
  return sums;
}

export interface EvaluationPass {
  batchSize: number;
  /** Batches [start, end) of the dataset in order; default all of them. */
  batches?: { start: number; end: number };
  /** Awaited before each batch: where a caller yields to the event loop or stops the pass. */
  beforeBatch?: () => Promise<void>;
  /** After each batch: batches done and in all, and the sums so far. */
  afterBatch?: (done: number, total: number, sums: Readonly<EvaluationSums>) => void;
}

/**
 * Exact top-1 hits and summed loss over a dataset (or a range of its batches), batch by batch in
 * dataset order with one batch in memory at a time. Summed in that order, the result is the same
 * whether the range is evaluated whole or in shards merged in order (mergeEvaluations).
 */
export async function evaluateDataset(model: LayersModel, dataset: LabeledDataset, pass: EvaluationPass): Promise<EvaluationSums> {
  const { batchSize } = pass;
  const { start, end } = pass.batches ?? { start: 0, end: batchCount(dataset, batchSize) };
  const sums: EvaluationSums = { correct: 0, lossSum: 0, count: 0 };
  for (let index = start; index < end; index += 1) {
    await pass.beforeBatch?.();
    const batch = batchAt(dataset, { batchSize, index });
    let part: EvaluationSums;
    try {
      part = evaluateBatches(model, [batch]);
    } finally {
      batch.dispose();
    }
    sums.correct += part.correct;
    sums.lossSum += part.lossSum;
    sums.count += part.count;
    pass.afterBatch?.(index - start + 1, end - start, sums);
  }
  return sums;
}

export function mergeEvaluations(parts: readonly EvaluationSums[]): EvaluationSums {
  return parts.reduce(
    (total, part) => ({
      correct: total.correct + part.correct,
      lossSum: total.lossSum + part.lossSum,
      count: total.count + part.count,
    }),
    { correct: 0, lossSum: 0, count: 0 },
  );
}

export function accuracyOf(sums: EvaluationSums): number {
  return sums.count === 0 ? 0 : sums.correct / sums.count;
}

/** Mean loss per sample (0 for no samples). */
export function meanLossOf(sums: EvaluationSums): number {
  return sums.count === 0 ? 0 : sums.lossSum / sums.count;
}
