import { bytesToUnit, noClassLabel, normalizationMismatch, sampleLength } from '@ippro/data';
import type { ChannelNormalization, LabeledDataset } from '@ippro/data';
import { canonicalJson } from './canonical-json';
import { ArtifactFormatError } from './artifact-format-error';

/*
 * The dataset artifact: a labelled dataset as one file, so data that is not a named dataset on
 * the workers (an image folder, an npz file, a fixture, a calibration set) travels by content hash
 * instead of by a file path (which the network never sends).
 *
 *   offset 0    "IPDS"                magic, 4 ASCII bytes
 *   offset 4    u32 little endian     format version (1 or 2)
 *   offset 8    u32 little endian H   byte length of the header (a multiple of 4)
 *   offset 12   H bytes, UTF-8        header JSON, keys sorted, padded with spaces to H:
 *                                     { description, labelType?, normalization?, numClasses,
 *                                       sampleShape, sampleType?, size }
 *   then        the samples           row-major, channels last (L = product of sampleShape):
 *                                     size * L float32 LE as the dataset's writeSample gives them
 *                                     (before normalisation), or with sampleType "uint8" size * L
 *                                     bytes b standing for b / 255 (images)
 *   then        the labels            size int32 LE, 0 <= label < numClasses, or with labelType
 *                                     "multi-hot" size * numClasses bytes, each 0 or 1
 *
 * Nothing follows. `normalization` (per-channel mean and std, or one of each) is applied at
 * batching time, as for the dataset the artifact was made from. Version 1 has neither sampleType
 * nor labelType; a writer uses version 2 only when it needs one, so float32 datasets with class
 * labels keep their version 1 bytes (and ids).
 */

export const DATASET_ARTIFACT_MAGIC = 'IPDS';
/** The newest version written and read; version 1 is still read (and written when it suffices). */
export const DATASET_ARTIFACT_VERSION = 2;
const PREAMBLE_BYTES = 12;

interface DatasetHeader {
  description: string;
  size: number;
  sampleShape: number[];
  numClasses: number;
  normalization?: ChannelNormalization;
  /** Absent: float32. */
  sampleType?: 'uint8';
  /** Absent: one int32 class index per sample. */
  labelType?: 'multi-hot';
}

/** Packs every sample and label of a dataset into the artifact format (deterministic bytes); byte-valued samples stay bytes. */
export function datasetToArtifact(dataset: LabeledDataset): Buffer {
  const length = sampleLength(dataset);
  const bytesOf = dataset.sampleBytes;
  const multiHot = dataset.multiHotLabel;
  const header: DatasetHeader = {
    description: dataset.description,
    size: dataset.size,
    sampleShape: [...dataset.sampleShape],
    numClasses: dataset.numClasses,
    ...(dataset.normalization === undefined
      ? {}
      : { normalization: { mean: [...dataset.normalization.mean], std: [...dataset.normalization.std] } }),
    ...(bytesOf === undefined ? {} : { sampleType: 'uint8' as const }),
    ...(multiHot === undefined ? {} : { labelType: 'multi-hot' as const }),
  };
  let json = canonicalJson(header);
  json += ' '.repeat((4 - (Buffer.byteLength(json) % 4)) % 4);
  const headerBytes = Buffer.from(json, 'utf8');
  let samples: Uint8Array;
  if (bytesOf === undefined) {
    const floats = new Float32Array(dataset.size * length);
    for (let index = 0; index < dataset.size; index += 1) dataset.writeSample(index, floats, index * length);
    samples = new Uint8Array(floats.buffer);
  } else {
    samples = new Uint8Array(dataset.size * length);
    for (let index = 0; index < dataset.size; index += 1) samples.set(bytesOf(index), index * length);
  }
  let labels: Uint8Array;
  if (multiHot === undefined) {
    labels = new Uint8Array(Int32Array.from({ length: dataset.size }, (_, index) => dataset.label(index)).buffer);
  } else {
    labels = new Uint8Array(dataset.size * dataset.numClasses);
    for (let index = 0; index < dataset.size; index += 1) labels.set(multiHot(index), index * dataset.numClasses);
  }
  const version = header.sampleType === undefined && header.labelType === undefined ? 1 : DATASET_ARTIFACT_VERSION;
  const bytes = Buffer.alloc(PREAMBLE_BYTES + headerBytes.length + samples.byteLength + labels.byteLength);
  bytes.write(DATASET_ARTIFACT_MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(version, 4);
  bytes.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(bytes, PREAMBLE_BYTES);
  const dataStart = PREAMBLE_BYTES + headerBytes.length;
  bytes.set(samples, dataStart);
  bytes.set(labels, dataStart + samples.byteLength);
  return bytes;
}

function fail(what: string): never {
  throw new ArtifactFormatError(`dataset artifact: ${what}`);
}

function checkHeader(value: unknown, version: number): DatasetHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('the header must be a JSON object');
  const header = value as Partial<DatasetHeader>;
  if (typeof header.description !== 'string') fail('header field "description" must be a string');
  if (!Number.isSafeInteger(header.size) || (header.size as number) < 1) fail(`header field "size" must be a positive integer, got ${JSON.stringify(header.size)}`);
  if (!Array.isArray(header.sampleShape) || header.sampleShape.length === 0 || !header.sampleShape.every((dim) => Number.isSafeInteger(dim) && dim > 0)) {
    fail(`header field "sampleShape" must be a non-empty list of positive sizes, got ${JSON.stringify(header.sampleShape)}`);
  }
  const multiHot = header.labelType === 'multi-hot';
  if (!Number.isSafeInteger(header.numClasses) || (header.numClasses as number) < (multiHot ? 1 : 2)) {
    fail(`header field "numClasses" must be an integer >= ${multiHot ? 1 : 2}, got ${JSON.stringify(header.numClasses)}`);
  }
  if (header.sampleType !== undefined && header.sampleType !== 'uint8') fail(`header field "sampleType" must be "uint8" or absent, got ${JSON.stringify(header.sampleType)}`);
  if (header.labelType !== undefined && !multiHot) fail(`header field "labelType" must be "multi-hot" or absent, got ${JSON.stringify(header.labelType)}`);
  if (version === 1 && (header.sampleType !== undefined || header.labelType !== undefined)) fail('a version 1 header has no "sampleType" or "labelType"');
  const norm = header.normalization;
  if (norm !== undefined) {
    const ok = (list: unknown): boolean => Array.isArray(list) && list.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!ok(norm.mean) || !ok(norm.std) || norm.mean.length !== norm.std.length || norm.std.some((v) => v <= 0)) fail('header field "normalization" must hold as many finite means as positive stds');
    const mismatch = normalizationMismatch(norm, header.sampleShape);
    if (mismatch !== undefined) fail(`header field "normalization": ${mismatch}`);
  }
  return header as DatasetHeader;
}

/** A dataset held in memory, read from a dataset artifact. */
export class ArtifactDataset implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  readonly normalization?: ChannelNormalization;
  readonly sampleBytes?: (index: number) => Uint8Array;
  readonly multiHotLabel?: (index: number) => Uint8Array;
  private readonly length: number;

  constructor(
    readonly description: string,
    header: DatasetHeader,
    private readonly samples: Float32Array | Uint8Array,
    private readonly labels: Int32Array | Uint8Array,
  ) {
    this.size = header.size;
    this.sampleShape = header.sampleShape;
    this.numClasses = header.numClasses;
    if (header.normalization !== undefined) this.normalization = header.normalization;
    this.length = samples.length / header.size;
    if (samples instanceof Uint8Array) this.sampleBytes = (index) => samples.subarray(this.check(index) * this.length, (index + 1) * this.length);
    if (header.labelType === 'multi-hot') this.multiHotLabel = (index) => labels.subarray(this.check(index) * this.numClasses, (index + 1) * this.numClasses) as Uint8Array;
  }

  label(index: number): number {
    this.check(index);
    return this.multiHotLabel === undefined ? (this.labels[index] as number) : noClassLabel(this);
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    if (this.sampleBytes !== undefined) {
      bytesToUnit(this.sampleBytes(index), target, offset);
      return;
    }
    this.check(index);
    target.set(this.samples.subarray(index * this.length, (index + 1) * this.length), offset);
  }

  private check(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`${this.description}: sample index ${index} is outside 0..${this.size - 1}`);
    }
    return index;
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
  if (version !== 1 && version !== DATASET_ARTIFACT_VERSION) fail(`format version ${version}; this reader understands 1 and ${DATASET_ARTIFACT_VERSION}`);
  const headerLength = buffer.readUInt32LE(8);
  if (PREAMBLE_BYTES + headerLength > buffer.length) fail(`header length ${headerLength} exceeds the artifact`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8', PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength));
  } catch (error) {
    fail(`the header is not valid JSON: ${(error as Error).message}`);
  }
  const header = checkHeader(parsed, version);
  const length = header.sampleShape.reduce((product, dim) => product * dim, 1);
  const bytesPerValue = header.sampleType === 'uint8' ? 1 : 4;
  const multiHot = header.labelType === 'multi-hot';
  const sampleBytes = header.size * length * bytesPerValue;
  const labelBytes = multiHot ? header.size * header.numClasses : header.size * 4;
  const dataStart = PREAMBLE_BYTES + headerLength;
  const expected = dataStart + sampleBytes + labelBytes;
  if (buffer.length !== expected) fail(`holds ${buffer.length} bytes; its header (${header.size} samples of shape [${header.sampleShape.join(', ')}]) needs ${expected}`);
  // Copies: the artifact's buffer need not be 4-byte aligned.
  const sampleCopy = buffer.buffer.slice(buffer.byteOffset + dataStart, buffer.byteOffset + dataStart + sampleBytes);
  const labelCopy = buffer.buffer.slice(buffer.byteOffset + dataStart + sampleBytes, buffer.byteOffset + expected);
  const samples = header.sampleType === 'uint8' ? new Uint8Array(sampleCopy) : new Float32Array(sampleCopy);
  const labels = multiHot ? new Uint8Array(labelCopy) : new Int32Array(labelCopy);
  if (samples instanceof Float32Array) {
    const badValue = samples.findIndex((value) => !Number.isFinite(value));
    if (badValue >= 0) fail(`sample ${Math.floor(badValue / length)} holds a non-finite value (${samples[badValue]})`);
  }
  const badLabel = multiHot ? labels.findIndex((label) => label > 1) : labels.findIndex((label) => label < 0 || label >= header.numClasses);
  if (badLabel >= 0) {
    fail(multiHot ? `sample ${Math.floor(badLabel / header.numClasses)} has multi-hot label ${labels[badLabel]}, not 0 or 1` : `label ${badLabel} is ${labels[badLabel]}, outside 0..${header.numClasses - 1}`);
  }
  return new ArtifactDataset(options.description ?? header.description, header, samples, labels);
}
