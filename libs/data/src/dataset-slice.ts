import { DataError } from './data-error';
import { DatasetView } from './dataset-view';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';

/** A half-open sample range [start, end) of a dataset. */
export interface SampleRange {
  readonly start: number;
  readonly end: number;
}

/** Samples [start, end) of `base`, re-indexed from 0; the range must lie inside the dataset. */
export class DatasetSlice extends DatasetView {
  readonly size: number;

  constructor(
    description: string,
    base: LabeledDataset,
    private readonly range: SampleRange,
  ) {
    super(description, base);
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
  }

  protected baseIndex(index: number): number {
    checkSampleIndex(this, index);
    return this.range.start + index;
  }
}
