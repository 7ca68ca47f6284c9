import * as tf from '@tensorflow/tfjs-core';
import { batchAt, batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { lossOptionsOf, perSampleClassificationLoss, perSampleHits } from '../loss';
import { classifierHead } from '../output-kind';
import type { ClassifierHead, OutputSetting } from '../output-kind';
import type { LabeledBatch } from './labeled-batch';

/** Sums, not means, so that shards of a dataset merge exactly by addition. */
export interface EvaluationSums {
  correct: number;
  lossSum: number;
  count: number;
}

/**
 * Hits (top-1, or exact match for a sigmoid: loss.ts' perSampleHits) and summed loss over the
 * batches, in inference mode, for the model's output kind (`output`, default read from the model).
 */
export function evaluateBatches(model: LayersModel, batches: Iterable<LabeledBatch>, output: OutputSetting = 'auto'): EvaluationSums {
  const head = classifierHead(model, output);
  const sums: EvaluationSums = { correct: 0, lossSum: 0, count: 0 };
  for (const batch of batches) addBatch(sums, evaluateBatch(head, batch));
  return sums;
}

function evaluateBatch(head: ClassifierHead, batch: LabeledBatch): EvaluationSums {
  const [correct, lossSum] = tf.tidy(() => {
    const outputs = head.forward(batch.x, false);
    const options = lossOptionsOf(head);
    return [tf.sum(perSampleHits(outputs, batch.y, options)), tf.sum(perSampleClassificationLoss(outputs, batch.y, options))];
  });
  const sums = { correct: correct?.dataSync()[0] ?? 0, lossSum: lossSum?.dataSync()[0] ?? 0, count: batch.x.shape[0] ?? 0 };
  tf.dispose([correct, lossSum]);
  return sums;
}

function addBatch(sums: EvaluationSums, part: EvaluationSums): void {
  sums.correct += part.correct;
  sums.lossSum += part.lossSum;
  sums.count += part.count;
}

export interface EvaluationPass {
  batchSize: number;
  /** Batches [start, end) of the dataset in order; default all of them. */
  batches?: { start: number; end: number };
  /** Awaited before each batch: where a caller yields to the event loop or stops the pass. */
  beforeBatch?: () => Promise<void>;
  /** After each batch: batches done and in all, and the sums so far. */
  afterBatch?: (done: number, total: number, sums: Readonly<EvaluationSums>) => void;
  /** The model's output kind; default 'auto' (read from the model). */
  output?: OutputSetting;
}

/**
 * Exact hits (top-1, or exact match for a sigmoid) and summed loss over a dataset (or a range of its batches), batch by batch in
 * dataset order with one batch in memory at a time. Summed in that order, the result is the same
 * whether the range is evaluated whole or in shards merged in order (mergeEvaluations).
 */
export async function evaluateDataset(model: LayersModel, dataset: LabeledDataset, pass: EvaluationPass): Promise<EvaluationSums> {
  const { batchSize } = pass;
  const head = classifierHead(model, pass.output ?? 'auto');
  const { start, end } = pass.batches ?? { start: 0, end: batchCount(dataset, batchSize) };
  const sums: EvaluationSums = { correct: 0, lossSum: 0, count: 0 };
  for (let index = start; index < end; index += 1) {
    await pass.beforeBatch?.();
    const batch = batchAt(dataset, { batchSize, index });
    try {
      addBatch(sums, evaluateBatch(head, batch));
    } finally {
      batch.dispose();
    }
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
