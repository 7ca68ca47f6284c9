import { sampleLength } from '@ippro/data';
import type { ChannelNormalization, LabeledDataset } from '@ippro/data';
import { canonicalJson } from './canonical-json';
import { ArtifactFormatError } from './artifact-format-error';

/*
 * The dataset artifact: a small labelled dataset as one file, so data that is not a named
 * dataset on the workers (a fixture, a calibration set) travels by content hash instead of by a
 * file path (which the network never sends).
 *
 *   offset 0    "IPDS"                magic, 4 ASCII bytes
 *   offset 4    u32 little endian     format version (1)
 *   offset 8    u32 little endian H   byte length of the header (a multiple of 4)
 *   offset 12   H bytes, UTF-8        header JSON, keys sorted, padded with spaces to H:
 *                                     { description, normalization?, numClasses, sampleShape, size }
 *   then        size * L float32 LE   the samples, row-major, channels last (L = product of
 *                                     sampleShape), as the dataset's writeSample gives them
 *                                     (before normalisation)
 *   then        size int32 LE         the labels, 0 <= label < numClasses
 *
 * Nothing follows. `normalization` (per-channel mean and std) is applied at batching time, as
 * for the dataset the artifact was made from.
 */

export const DATASET_ARTIFACT_MAGIC = 'IPDS';
export const DATASET_ARTIFACT_VERSION = 1;
const PREAMBLE_BYTES = 12;

interface DatasetHeader {
  description: string;
  size: number;
  sampleShape: number[];
  numClasses: number;
  normalization?: ChannelNormalization;
}

/** Packs every sample and label of a dataset into the artifact format (deterministic bytes). */
export function datasetToArtifact(dataset: LabeledDataset): Buffer {
  const length = sampleLength(dataset);
  const header: DatasetHeader = {
    description: dataset.description,
    size: dataset.size,
    sampleShape: [...dataset.sampleShape],
    numClasses: dataset.numClasses,
    ...(dataset.normalization === undefined
      ? {}
      : { normalization: { mean: [...dataset.normalization.mean], std: [...dataset.normalization.std] } }),
  };
  let json = canonicalJson(header);
  json += ' '.repeat((4 - (Buffer.byteLength(json) % 4)) % 4);
  const headerBytes = Buffer.from(json, 'utf8');
  const samples = new Float32Array(dataset.size * length);
  const labels = new Int32Array(dataset.size);
  for (let index = 0; index < dataset.size; index += 1) {
    dataset.writeSample(index, samples, index * length);
    labels[index] = dataset.label(index);
  }
  const bytes = Buffer.alloc(PREAMBLE_BYTES + headerBytes.length + samples.byteLength + labels.byteLength);
  bytes.write(DATASET_ARTIFACT_MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(DATASET_ARTIFACT_VERSION, 4);
  bytes.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(bytes, PREAMBLE_BYTES);
  const dataStart = PREAMBLE_BYTES + headerBytes.length;
  bytes.set(new Uint8Array(samples.buffer), dataStart);
  bytes.set(new Uint8Array(labels.buffer), dataStart + samples.byteLength);
  return bytes;
}

function fail(what: string): never {
  throw new ArtifactFormatError(`dataset artifact: ${what}`);
}

function checkHeader(value: unknown): DatasetHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('the header must be a JSON object');
  const header = value as Partial<DatasetHeader>;
  if (typeof header.description !== 'string') fail('header field "description" must be a string');
  if (!Number.isSafeInteger(header.size) || (header.size as number) < 1) fail(`header field "size" must be a positive integer, got ${JSON.stringify(header.size)}`);
  if (!Array.isArray(header.sampleShape) || header.sampleShape.length === 0 || !header.sampleShape.every((dim) => Number.isSafeInteger(dim) && dim > 0)) {
    fail(`header field "sampleShape" must be a non-empty list of positive sizes, got ${JSON.stringify(header.sampleShape)}`);
  }
  if (!Number.isSafeInteger(header.numClasses) || (header.numClasses as number) < 2) fail(`header field "numClasses" must be an integer >= 2, got ${JSON.stringify(header.numClasses)}`);
  const norm = header.normalization;
  if (norm !== undefined) {
    const channels = header.sampleShape[header.sampleShape.length - 1];
    const ok = (list: unknown): boolean => Array.isArray(list) && list.length === channels && list.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!ok(norm.mean) || !ok(norm.std) || norm.std.some((v) => v <= 0)) fail(`header field "normalization" must hold ${channels} finite means and positive stds`);
  }
  return header as DatasetHeader;
}

/** A dataset held in memory, read from a dataset artifact. */
export class ArtifactDataset implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly normalization?: ChannelNormalization;
  private readonly length: number;

  constructor(
    readonly description: string,
    header: DatasetHeader,
    private readonly samples: Float32Array,
    private readonly labels: Int32Array,
  ) {
    this.size = header.size;
    this.sampleShape = header.sampleShape;
    this.numClasses = header.numClasses;
    if (header.normalization !== undefined) this.normalization = header.normalization;
    this.length = samples.length / header.size;
  }

  label(index: number): number {
    this.check(index);
    return this.labels[index] as number;
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    this.check(index);
    target.set(this.samples.subarray(index * this.length, (index + 1) * this.length), offset);
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`${this.description}: sample index ${index} is outside 0..${this.size - 1}`);
    }
  }
}

export interface DatasetFromArtifactOptions {
  /** The dataset's description (its name in errors and logs); default the header's. */
  description?: string;
}

/** Reads and checks a dataset artifact (sizes, labels in range, finite samples). */
export function datasetFromArtifact(bytes: Uint8Array, options: DatasetFromArtifactOptions = {}): ArtifactDataset {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < PREAMBLE_BYTES) fail(`truncated: ${buffer.length} bytes`);
  const magic = buffer.toString('latin1', 0, 4);
  if (magic !== DATASET_ARTIFACT_MAGIC) fail(`magic ${JSON.stringify(magic)}, expected "${DATASET_ARTIFACT_MAGIC}"`);
  const version = buffer.readUInt32LE(4);
  if (version !== DATASET_ARTIFACT_VERSION) fail(`format version ${version}; this reader understands ${DATASET_ARTIFACT_VERSION}`);
  const headerLength = buffer.readUInt32LE(8);
  if (PREAMBLE_BYTES + headerLength > buffer.length) fail(`header length ${headerLength} exceeds the artifact`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength));
  } catch (error) {
    fail(`the header is not valid JSON: ${(error as Error).message}`);
  }
  const header = checkHeader(parsed);
  const length = header.sampleShape.reduce((product, dim) => product * dim, 1);
  const sampleBytes = header.size * length * 4;
  const dataStart = PREAMBLE_BYTES + headerLength;
  const expected = dataStart + sampleBytes + header.size * 4;
  if (buffer.length !== expected) fail(`holds ${buffer.length} bytes; its header (${header.size} samples of shape [${header.sampleShape.join(', ')}]) needs ${expected}`);
  // Copies: the artifact's buffer need not be 4-byte aligned.
  const samples = new Float32Array(buffer.buffer.slice(buffer.byteOffset + dataStart, buffer.byteOffset + dataStart + sampleBytes));
  const labels = new Int32Array(buffer.buffer.slice(buffer.byteOffset + dataStart + sampleBytes, buffer.byteOffset + expected));
  const badValue = samples.findIndex((value) => !Number.isFinite(value));
  if (badValue >= 0) fail(`sample ${Math.floor(badValue / length)} holds a non-finite value (${samples[badValue]})`);
  const badLabel = labels.findIndex((label) => label < 0 || label >= header.numClasses);
  if (badLabel >= 0) fail(`label ${badLabel} is ${labels[badLabel]}, outside 0..${header.numClasses - 1}`);
  return new ArtifactDataset(options.description ?? header.description, header, samples, labels);
}
