import { readFileSync, statSync } from 'node:fs';
import {
  CIFAR10_CHANNELS,
  CIFAR10_IMAGE_SIDE,
  CIFAR10_NUM_CLASSES,
  CIFAR10_RECORD_BYTES,
  CIFAR10_SAMPLE_SHAPE,
  CIFAR10_STANDARD_FILE_BYTES,
} from './cifar10-format';
import { CIFAR10_NORMALIZATION } from './cifar10-normalization';
import { DataError } from './data-error';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';
import { planarBytesToNhwc } from './planar-to-nhwc';

export interface Cifar10FileOptions {
  /** Require exactly this many records (the standard files hold 10,000). Any count when unset. */
  readonly expectedRecords?: number;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new DataError('not-found', `CIFAR-10 file ${path} does not exist`, { cause: error });
    }
    throw new DataError('unavailable', `CIFAR-10 file ${path} cannot be read (${code})`, {
      cause: error,
    });
  }
}

function recordCountOf(path: string, bytes: number, expectedRecords?: number): number {
  if (bytes === 0 || bytes % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataError(
      'data-loss',
      `CIFAR-10 file ${path} is ${bytes} bytes, not a whole number of ` +
        `${CIFAR10_RECORD_BYTES}-byte records (truncated or not CIFAR-10 binary)`,
    );
  }
  const expectedBytes = (expectedRecords ?? 0) * CIFAR10_RECORD_BYTES;
  if (expectedRecords !== undefined && bytes !== expectedBytes) {
    const isStandard = expectedBytes === CIFAR10_STANDARD_FILE_BYTES;
    const standard = isStandard ? 'a standard file is' : 'expected';
    throw new DataError(
      'data-loss',
      `CIFAR-10 file ${path} is ${bytes} bytes (${bytes / CIFAR10_RECORD_BYTES} records); ` +
        `${standard} ${expectedBytes} bytes (${expectedRecords} records)`,
    );
  }
  return bytes / CIFAR10_RECORD_BYTES;
}

function checkLabels(path: string, records: Buffer): void {
  for (let i = 0, at = 0; at < records.length; i++, at += CIFAR10_RECORD_BYTES) {
    if (records[at] >= CIFAR10_NUM_CLASSES) {
      throw new DataError(
        'data-loss',
        `CIFAR-10 file ${path}: record ${i} has label ${records[at]}; labels must be 0-9`,
      );
    }
  }
}

/**
 * One CIFAR-10 binary file. Opening checks that it exists and has a valid size; the bytes are
 * read (one Buffer, labels checked) on the first access to a sample, so a dataset range that
 * touches one file of five reads one.
 */
export class Cifar10File implements LabeledDataset {
  readonly sampleShape = CIFAR10_SAMPLE_SHAPE;
  readonly numClasses = CIFAR10_NUM_CLASSES;
  readonly normalization = CIFAR10_NORMALIZATION;
  private records: Buffer | undefined;

  private constructor(
    readonly description: string,
    readonly size: number,
  ) {}

  static open(path: string, options: Cifar10FileOptions = {}): Cifar10File {
    return new Cifar10File(path, recordCountOf(path, fileSize(path), options.expectedRecords));
  }

  get path(): string {
    return this.description;
  }

  /** Reads and validates the file now rather than on first access. */
  load(): this {
    this.bytes();
    return this;
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.bytes()[index * CIFAR10_RECORD_BYTES];
  }

  /** All labels, in file order. */
  labels(): Uint8Array {
    const records = this.bytes();
    const labels = new Uint8Array(this.size);
    for (let i = 0; i < this.size; i++) labels[i] = records[i * CIFAR10_RECORD_BYTES];
    return labels;
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    checkSampleIndex(this, index);
    const pixels = index * CIFAR10_RECORD_BYTES + 1;
    planarBytesToNhwc(this.bytes(), pixels, target, offset, CIFAR10_IMAGE_SIDE ** 2);
  }

  /** The image's bytes channels last (writeSample's values times 255). */
  readonly sampleBytes = (index: number): Uint8Array => {
    checkSampleIndex(this, index);
    const records = this.bytes();
    const planes = index * CIFAR10_RECORD_BYTES + 1;
    const pixels = CIFAR10_IMAGE_SIDE ** 2;
    const image = new Uint8Array(pixels * CIFAR10_CHANNELS);
    for (let c = 0; c < CIFAR10_CHANNELS; c += 1) {
      for (let p = 0; p < pixels; p += 1) image[p * CIFAR10_CHANNELS + c] = records[planes + c * pixels + p] as number;
    }
    return image;
  };

  private bytes(): Buffer {
    if (this.records === undefined) {
      const records = readFileSync(this.path);
      // The file may have changed since open(); re-check so a short read is never indexed.
      recordCountOf(this.path, records.length, this.size);
      checkLabels(this.path, records);
      this.records = records;
    }
    return this.records;
  }
}
