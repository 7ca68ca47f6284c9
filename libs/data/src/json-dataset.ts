import { readFileSync } from 'node:fs';
import { DataError } from './data-error';
import { checkSampleIndex, type LabeledDataset } from './labeled-dataset';

/**
 * A small dataset in one JSON file:
 * `{ "inputs": [sample, ...], "labels": [int, ...], "batchSize"?: int }`, where each sample is a
 * number or nested arrays of numbers, all of one shape. Values are used as they are (no
 * normalisation); the class count is the largest label + 1.
 */
export class JsonDataset implements LabeledDataset {
  readonly size: number;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  /** The file's `batchSize`, when it names one (e.g. the batching its expected values used). */
  readonly batchSize: number | undefined;
  private readonly values: Float32Array;
  private readonly labels: Int32Array;

  private constructor(readonly description: string, parsed: ParsedJsonDataset) {
    this.size = parsed.labels.length;
    this.sampleShape = parsed.sampleShape;
    this.values = parsed.values;
    this.labels = parsed.labels;
    this.numClasses = Math.max(...parsed.labels) + 1;
    this.batchSize = parsed.batchSize;
  }

  static read(path: string): JsonDataset {
    return new JsonDataset(`json:${path}`, parseJsonDataset(path, readJson(path)));
  }

  label(index: number): number {
    checkSampleIndex(this, index);
    return this.labels[index];
  }

  writeSample(index: number, target: Float32Array, offset: number): void {
    checkSampleIndex(this, index);
    const length = this.values.length / this.size;
    target.set(this.values.subarray(index * length, (index + 1) * length), offset);
  }
}

interface ParsedJsonDataset {
  sampleShape: number[];
  values: Float32Array;
  labels: Int32Array;
  batchSize: number | undefined;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DataError(
      missing ? 'not-found' : 'unavailable',
      `JSON dataset ${path} ${missing ? 'does not exist' : 'cannot be read'}`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataError('invalid-argument', `JSON dataset ${path} is not valid JSON`, {
      cause: error,
    });
  }
}

function parseJsonDataset(path: string, json: unknown): ParsedJsonDataset {
  const fail = (what: string): never => {
    throw new DataError('invalid-argument', `JSON dataset ${path}: ${what}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail('must be an object with "inputs" and "labels"');
  }
  const { inputs, labels, batchSize } = json as Record<string, unknown>;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    return fail('"inputs" must be a non-empty array');
  }
  if (!Array.isArray(labels)) return fail('"labels" must be an array');
  if (labels.length !== inputs.length) {
    fail(`"labels" has ${labels.length} entries but "inputs" has ${inputs.length}`);
  }
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && (batchSize as number) > 0)) {
    fail(`"batchSize" must be a positive integer, got ${JSON.stringify(batchSize)}`);
  }
  const shape = shapeOf(inputs[0], 'inputs[0]', fail);
  const sampleLength = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(inputs.length * sampleLength);
  inputs.forEach((sample, i) => {
    flattenInto(sample, shape, `inputs[${i}]`, values, i * sampleLength, fail);
  });
  return {
    // A scalar sample is one feature, so every sample has at least one dimension.
    sampleShape: shape.length === 0 ? [1] : shape,
    values,
    labels: Int32Array.from(labels, (label, i) => checkLabel(label, i, fail)),
    batchSize: batchSize as number | undefined,
  };
}

type Fail = (what: string) => never;

function checkLabel(label: unknown, index: number, fail: Fail): number {
  if (!Number.isInteger(label) || (label as number) < 0 || (label as number) > 0x7fffffff) {
    fail(`labels[${index}] must be a non-negative integer, got ${JSON.stringify(label)}`);
  }
  return label as number;
}

function shapeOf(sample: unknown, where: string, fail: Fail): number[] {
  const shape: number[] = [];
  let value = sample;
  while (Array.isArray(value)) {
    if (value.length === 0) fail(`${where} contains an empty array`);
    shape.push(value.length);
    value = value[0];
  }
  if (typeof value !== 'number') fail(`${where} must be a number or nested arrays of numbers`);
  return shape;
}

/** Writes `sample` (of `shape`, [] = scalar) row-major at `offset`; returns the next offset. */
function flattenInto(
  sample: unknown,
  shape: readonly number[],
  where: string,
  target: Float32Array,
  offset: number,
  fail: Fail,
): number {
  if (shape.length === 0) {
    if (typeof sample !== 'number' || !Number.isFinite(sample)) {
      return fail(`${where} must be a finite number, got ${JSON.stringify(sample)}`);
    }
    target[offset] = sample;
    return offset + 1;
  }
  if (!Array.isArray(sample) || sample.length !== shape[0]) {
    return fail(`${where} does not have the shape of inputs[0]`);
  }
  let next = offset;
  sample.forEach((item, i) => {
    next = flattenInto(item, shape.slice(1), `${where}[${i}]`, target, next, fail);
  });
  return next;
}
