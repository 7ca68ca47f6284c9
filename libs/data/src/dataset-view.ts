import { checkSampleIndex, type ChannelNormalization, type LabeledDataset } from './labeled-dataset';
import type { NormalizationSetting } from './normalization-setting';

/** What a view states differently from the dataset it shows. */
export interface ViewOverrides {
  /** Statistics to normalise with instead of the base's; 'none': none. */
  readonly normalize?: NormalizationSetting;
  readonly numClasses?: number;
  readonly classNames?: readonly string[];
}

/**
 * A dataset whose sample i is sample `baseIndex(i)` of another (a range, a split, the same samples
 * with other statistics): labels, multi-hot labels, bytes and class names pass through.
 */
export abstract class DatasetView implements LabeledDataset {
  abstract readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly normalization?: ChannelNormalization;
  readonly classNames?: readonly string[];
  readonly multiHotLabel?: (index: number) => Uint8Array;
  readonly sampleBytes?: (index: number) => Uint8Array;

  constructor(
    readonly description: string,
    protected readonly base: LabeledDataset,
    overrides: ViewOverrides = {},
  ) {
    this.sampleShape = base.sampleShape;
    this.numClasses = overrides.numClasses ?? base.numClasses;
    const normalization = overrides.normalize ?? base.normalization;
    if (normalization !== undefined && normalization !== 'none') this.normalization = normalization;
    const classNames = overrides.classNames ?? base.classNames;
    if (classNames !== undefined) this.classNames = classNames;
    const { multiHotLabel, sampleBytes } = base;
    if (multiHotLabel !== undefined) this.multiHotLabel = (index) => multiHotLabel.call(base, this.baseIndex(index));
    if (sampleBytes !== undefined) this.sampleBytes = (index) => sampleBytes.call(base, this.baseIndex(index));
  }

  label(index: number): number {
    return this.base.label(this.baseIndex(index));
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    this.base.writeSample(this.baseIndex(index), target, offset);
  }

  /** The base's index of sample `index`; a RangeError naming the view when `index` is out of range. */
  protected abstract baseIndex(index: number): number;
}

/** The same samples as `base`, with other statistics or class names. */
export class RestatedDataset extends DatasetView {
  readonly size: number;

  constructor(description: string, base: LabeledDataset, overrides: ViewOverrides) {
    super(description, base, overrides);
    this.size = base.size;
  }

  protected baseIndex(index: number): number {
    checkSampleIndex(this, index);
    return index;
  }
}

/** The samples of `base` at `indices` (in that order), re-indexed from 0. */
export class DatasetSubset extends DatasetView {
  readonly size: number;

  constructor(description: string, base: LabeledDataset, private readonly indices: Uint32Array) {
    super(description, base);
    this.size = indices.length;
  }

  protected baseIndex(index: number): number {
    checkSampleIndex(this, index);
    return this.indices[index] as number;
  }
}
