import { performance } from 'node:perf_hooks';
import { batchArraysAt, batchCount, type BatchOptions } from './batching';
import { batchAt } from './batch-tensors';
import type { LabeledDataset } from './labeled-dataset';

export interface PipelineTimingOptions extends Omit<BatchOptions, 'index'> {
  /** How many batches to produce; wraps into the next epochs when larger than one epoch. */
  readonly batches: number;
  /** Also build (and dispose) tf tensors, as a training loop would. Default false. */
  readonly tensors?: boolean;
}

export interface PipelineTiming {
  readonly batches: number;
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly millisecondsPerBatch: number;
}

/**
 * Times the input pipeline alone (read, shuffle, augment, normalise, one-hot): the number a
 * training benchmark compares its step time with, to see whether input keeps up.
 */
export function timeInputPipeline(
  dataset: LabeledDataset,
  options: PipelineTimingOptions,
): PipelineTiming {
  const perEpoch = batchCount(dataset, options.batchSize);
  const firstEpoch = options.epoch ?? 0;
  let samples = 0;
  const started = performance.now();
  for (let b = 0; b < options.batches; b++) {
    const epoch = firstEpoch + Math.floor(b / perEpoch);
    const batchOptions = { ...options, epoch, index: b % perEpoch };
    if (options.tensors) {
      const batch = batchAt(dataset, batchOptions);
      samples += batch.labels.length;
      batch.dispose();
    } else {
      samples += batchArraysAt(dataset, batchOptions).size;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    batches: options.batches,
    samples,
    seconds,
    samplesPerSecond: samples / seconds,
    millisecondsPerBatch: (seconds * 1000) / Math.max(1, options.batches),
  };
}
