import { batchCount } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { evaluateBatches, mergeEvaluations } from '@ippro/models';
import type { EvaluationSums } from '@ippro/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { datasetBatches } from './dataset-batches';

/** Exact correct count and summed loss over a whole dataset, batch by batch in order. */
export function evaluateDataset(
  model: LayersModel,
  dataset: LabeledDataset,
  batchSize: number,
  onBatch?: (done: number, total: number) => void,
): EvaluationSums {
  const total = batchCount(dataset, batchSize);
  const parts: EvaluationSums[] = [];
  for (let index = 0; index < total; index += 1) {
    const batches = datasetBatches(dataset, { start: index, end: index + 1 }, { batchSize });
    parts.push(evaluateBatches(model, batches));
    onBatch?.(index + 1, total);
  }
  return mergeEvaluations(parts);
}
