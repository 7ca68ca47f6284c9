import { batchAt } from '@ippro/data';
import type { BatchOptions, LabeledDataset, TensorBatch } from '@ippro/data';
import type { BatchRange } from './batch-shards';

export type BatchSettings = Omit<BatchOptions, 'index'>;

/**
 * The batches of a range as tensors, one at a time: each batch is disposed when the consumer
 * asks for the next, so a long pass holds one batch in memory.
 */
export function* datasetBatches(
  dataset: LabeledDataset,
  range: BatchRange,
  settings: BatchSettings,
): Generator<TensorBatch> {
  for (let index = range.start; index < range.end; index += 1) {
    const batch = batchAt(dataset, { ...settings, index });
    try {
      yield batch;
    } finally {
      batch.dispose();
    }
  }
}
