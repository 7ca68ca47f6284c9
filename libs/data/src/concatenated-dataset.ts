import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';

/**
 * Several datasets of the same sample shape seen as one, in order (the five CIFAR-10 training
 * files as one training set).
 */
export class ConcatenatedDataset implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly normalization: LabeledDataset['normalization'];
  readonly sampleBytes: LabeledDataset['sampleBytes'];
  /** starts[k] is the global index of part k's first sample. */
  private readonly starts: number[];

  constructor(
    readonly description: string,
    private readonly parts: readonly LabeledDataset[],
  ) {
    if (parts.length === 0) throw new RangeError(`${description}: no parts to concatenate`);
    this.starts = [];
    let size = 0;
    for (const part of parts) {
      this.starts.push(size);
      size += part.size;
    }
    this.size = size;
    this.sampleShape = parts[0].sampleShape;
    this.numClasses = Math.max(...parts.map((p) => p.numClasses));
    this.normalization = parts[0].normalization;
    if (parts.every((part) => part.sampleBytes !== undefined)) {
      this.sampleBytes = (index) => {
        const [part, local] = this.locate(index);
        return (part.sampleBytes as (index: number) => Uint8Array)(local);
      };
    }
  }

  label(index: number): number {
    const [part, local] = this.locate(index);
    return part.label(local);
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    const [part, local] = this.locate(index);
    part.writeSample(local, target, offset);
  }

  private locate(index: number): [LabeledDataset, number] {
    checkSampleIndex(this, index);
    let k = this.parts.length - 1;
    while (this.starts[k] > index) k--;
    return [this.parts[k], index - this.starts[k]];
  }
}
