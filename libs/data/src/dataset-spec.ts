import type { Cifar10Split } from './cifar10-format';
import { DataError } from './data-error';

/** An optional half-open sample range; `end` defaults to the dataset's size. */
export interface SpecRange {
  readonly start: number;
  readonly end?: number;
}

export interface Cifar10Spec {
  readonly scheme: 'cifar10';
  readonly split: Cifar10Split;
  readonly range?: SpecRange;
}

export interface SyntheticSpec {
  readonly scheme: 'synthetic';
  /** Only CIFAR-shaped images for now: 32x32x3, values 0..1. */
  readonly kind: 'cifar';
  readonly size: number;
  readonly seed: number;
  readonly numClasses: number;
  readonly range?: SpecRange;
}

export interface JsonSpec {
  readonly scheme: 'json';
  readonly path: string;
  readonly range?: SpecRange;
}

export type DatasetSpec = Cifar10Spec | SyntheticSpec | JsonSpec;

export const DATASET_SCHEMES: readonly DatasetSpec['scheme'][] = ['cifar10', 'synthetic', 'json'];

const SYNTHETIC_DEFAULTS = { n: 512, seed: 0, classes: 10 };
const RANGE_SUFFIX = /^(.*)\[(\d*):(\d*)\]$/s;

/**
 * Parses `cifar10:train`, `cifar10:test`, `synthetic:cifar?n=512&seed=1&classes=10` or
 * `json:PATH`, each optionally followed by a half-open sample range `[start:end]` (either bound
 * may be left out: `[:5000]`, `[45000:]`).
 */
export function parseDatasetSpec(text: string): DatasetSpec {
  const fail = (what: string): never => {
    throw new DataError('invalid-argument', `dataset spec '${text}': ${what}`);
  };
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? text : text.slice(0, colon);
  const { body, range } = splitRange(text.slice(colon + 1), fail);
  switch (colon < 0 ? '' : scheme) {
    case 'cifar10':
      return { scheme: 'cifar10', split: parseSplit(body, fail), ...withRange(range) };
    case 'synthetic':
      return { ...parseSynthetic(body, fail), ...withRange(range) };
    case 'json':
      if (body === '') fail('json: needs a file path, e.g. json:data/samples.json');
      return { scheme: 'json', path: body, ...withRange(range) };
    default:
      return fail(`unknown scheme '${scheme}'; known schemes: ${DATASET_SCHEMES.join(', ')}`);
  }
}

/** The canonical text of a spec; parseDatasetSpec(formatDatasetSpec(s)) equals s. */
export function formatDatasetSpec(spec: DatasetSpec): string {
  return baseSpecText(spec) + (spec.range ? formatRange(spec.range) : '');
}

/** The spec without its sample range: names the whole dataset a range is taken from. */
export function baseSpecText(spec: DatasetSpec): string {
  switch (spec.scheme) {
    case 'cifar10':
      return `cifar10:${spec.split}`;
    case 'synthetic':
      return `synthetic:${spec.kind}?n=${spec.size}&seed=${spec.seed}&classes=${spec.numClasses}`;
    case 'json':
      return `json:${spec.path}`;
  }
}

function formatRange(range: SpecRange): string {
  return `[${range.start}:${range.end ?? ''}]`;
}

function withRange(range: SpecRange | undefined): { range?: SpecRange } {
  return range ? { range } : {};
}

type Fail = (what: string) => never;

function splitRange(text: string, fail: Fail): { body: string; range?: SpecRange } {
  const match = RANGE_SUFFIX.exec(text);
  if (!match) {
    if (/\[[^\]]*\]$/.test(text)) fail('a sample range must look like [start:end] with integers');
    return { body: text };
  }
  const start = match[2] === '' ? 0 : Number(match[2]);
  const end = match[3] === '' ? undefined : Number(match[3]);
  if (end !== undefined && end <= start) fail(`sample range [${start}:${end}] is empty`);
  return { body: match[1], range: end === undefined ? { start } : { start, end } };
}

function parseSplit(body: string, fail: Fail): Cifar10Split {
  if (body === 'train' || body === 'test') return body;
  return fail(`unknown CIFAR-10 split '${body}'; known splits: train, test`);
}

function parseSynthetic(body: string, fail: Fail): SyntheticSpec {
  const question = body.indexOf('?');
  const kind = question < 0 ? body : body.slice(0, question);
  if (kind !== 'cifar') fail(`unknown synthetic kind '${kind}'; known kinds: cifar`);
  const values = { ...SYNTHETIC_DEFAULTS };
  const params = new URLSearchParams(question < 0 ? '' : body.slice(question + 1));
  for (const [key, value] of params) {
    if (!(key in SYNTHETIC_DEFAULTS)) {
      fail(`unknown parameter '${key}'; known: ${Object.keys(SYNTHETIC_DEFAULTS).join(', ')}`);
    }
    if (!/^\d+$/.test(value)) {
      fail(`parameter ${key} must be a non-negative integer, got '${value}'`);
    }
    values[key as keyof typeof SYNTHETIC_DEFAULTS] = Number(value);
  }
  if (values.n < 1) fail('parameter n must be at least 1');
  if (values.classes < 2) fail('parameter classes must be at least 2');
  return {
    scheme: 'synthetic',
    kind: 'cifar',
    size: values.n,
    seed: values.seed,
    numClasses: values.classes,
  };
}
