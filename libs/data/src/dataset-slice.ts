import { DataError } from './data-error';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';

/** A half-open sample range [start, end) of a dataset. */
export interface SampleRange {
  readonly start: number;
  readonly end: number;
}

/** Samples [start, end) of `base`, re-indexed from 0; the range must lie inside the dataset. */
export class DatasetSlice implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly normalization: LabeledDataset['normalization'];

  constructor(
    readonly description: string,
    private readonly base: LabeledDataset,
    private readonly range: SampleRange,
  ) {
    const { start, end } = range;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start >= end) {
      throw new DataError(
        'invalid-argument',
        `${description}: sample range [${start}:${end}] must have integers 0 <= start < end`,
      );
    }
    if (end > base.size) {
      throw new DataError(
        'out-of-range',
        `${description}: sample range [${start}:${end}] is outside ${base.description}, ` +
          `which has ${base.size} samples`,
      );
    }
    this.size = end - start;
    this.sampleShape = base.sampleShape;
    this.numClasses = base.numClasses;
    this.normalization = base.normalization;
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.base.label(this.range.start + index);
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    checkSampleIndex(this, index);
    this.base.writeSample(this.range.start + index, target, offset);
  }
}
