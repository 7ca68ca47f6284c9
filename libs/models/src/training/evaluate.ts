import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { perSampleCrossEntropy } from './cross-entropy';
import type { LabeledBatch } from './labeled-batch';

/** Sums, not means, so that shards of a dataset merge exactly by addition. */
export interface EvaluationSums {
  correct: number;
  lossSum: number;
  count: number;
}

/** Top-1 correct count and summed cross-entropy over the batches, in inference mode. */
export function evaluateBatches(model: LayersModel, batches: Iterable<LabeledBatch>): EvaluationSums {
  const sums: EvaluationSums = { correct: 0, lossSum: 0, count: 0 };
  for (const batch of batches) {
    const [correct, lossSum] = tf.tidy(() => {
      const probabilities = model.apply(batch.x, { training: false }) as tf.Tensor;
      const hits = tf.equal(tf.argMax(probabilities, -1), tf.argMax(batch.y, -1));
      return [tf.sum(tf.cast(hits, 'int32')), tf.sum(perSampleCrossEntropy(probabilities, batch.y))];
    });
    sums.correct += correct?.dataSync()[0] ?? 0;
    sums.lossSum += lossSum?.dataSync()[0] ?? 0;
    sums.count += batch.x.shape[0] ?? 0;
    correct?.dispose();
    lossSum?.dispose();
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
