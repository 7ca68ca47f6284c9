import type { Cifar10Split } from './cifar10-format';
import { DataError } from './data-error';
import { formatNormalization, parseNormalization, type NormalizationSetting } from './normalization-setting';

/** An optional half-open sample range; `end` defaults to the dataset's size. */
export interface SpecRange {
  readonly start: number;
  readonly end?: number;
}

/**
 * A deterministic train/validation split: `fraction` of the samples (of each class: stratified;
 * multi-hot data is split as one group) go to 'val', seeded by `seed`, the rest to 'train'.
 */
export interface TrainValSplit {
  readonly part: 'train' | 'val';
  readonly fraction: number;
  readonly seed: number;
}

/** What every kind of spec may add: a split, a normalization, then a sample range of the result. */
export interface SpecCommon {
  readonly trainVal?: TrainValSplit;
  /** Replaces the data's own normalization (CIFAR-10's statistics, a sidecar file's). */
  readonly normalize?: NormalizationSetting;
  readonly range?: SpecRange;
}

export interface Cifar10Spec extends SpecCommon {
  readonly scheme: 'cifar10';
  readonly split: Cifar10Split;
}

export interface SyntheticSpec extends SpecCommon {
  readonly scheme: 'synthetic';
  /** Only CIFAR-shaped images for now: 32x32x3, values 0..1. */
  readonly kind: 'cifar';
  readonly size: number;
  readonly seed: number;
  readonly numClasses: number;
}

export interface JsonSpec extends SpecCommon {
  readonly scheme: 'json';
  readonly path: string;
}

/** How images of another size become the model's: stretched (bilinear), or their centre cropped to its aspect ratio first. */
export type ImageFit = 'resize' | 'crop';

export interface ImagesSpec extends SpecCommon {
  readonly scheme: 'images';
  /** A folder with one sub-folder of images per class. */
  readonly path: string;
  /** [height, width]; default the model's input size, else the images' own (all alike). */
  readonly size?: readonly [number, number];
  /** Default 'resize' (as Keras' image_dataset_from_directory). */
  readonly fit?: ImageFit;
  /** 1 (grayscale), 3 (RGB) or 4 (RGBA); default the model's input channels, else the images' own (all alike). */
  readonly channels?: number;
  /** Convert images of other channel counts (else they are refused). */
  readonly convert?: boolean;
}

export interface NpzSpec extends SpecCommon {
  readonly scheme: 'npz';
  readonly path: string;
  /** Names of the sample and label arrays; default 'x' and 'y'. */
  readonly x?: string;
  readonly y?: string;
}

export type DatasetSpec = Cifar10Spec | SyntheticSpec | JsonSpec | ImagesSpec | NpzSpec;

export const DATASET_SCHEMES: readonly DatasetSpec['scheme'][] = ['cifar10', 'synthetic', 'json', 'images', 'npz'];

/** Parameters every scheme takes, after its own. */
const COMMON_PARAMETERS = ['split', 'val', 'split-seed', 'normalize'] as const;
const SCHEME_PARAMETERS: Readonly<Record<DatasetSpec['scheme'], readonly string[]>> = {
  cifar10: [],
  synthetic: ['n', 'seed', 'classes'],
  json: [],
  images: ['size', 'fit', 'channels', 'convert'],
  npz: ['x', 'y'],
};
const SYNTHETIC_DEFAULTS = { n: 512, seed: 0, classes: 10 };
const DEFAULT_VAL_FRACTION = 0.1;
const RANGE_SUFFIX = /^(.*)\[(\d*):(\d*)\]$/s;

type Fail = (what: string) => never;
type Parameters = ReadonlyMap<string, string>;

/**
 * Parses `SCHEME:BODY?PARAMETERS[start:end]`: `cifar10:train`, `synthetic:cifar?n=512&seed=1`,
 * `json:PATH`, `images:DIR?size=32x32`, `npz:FILE?x=images`; every scheme also takes
 * `split=train|val&val=0.1&split-seed=0` and `normalize=mean=R,G,B,std=R,G,B` (or `normalize=none`),
 * and a half-open sample range of the result (either bound may be left out: `[:5000]`, `[45000:]`).
 * A path ends at the first '?'.
 */
export function parseDatasetSpec(text: string): DatasetSpec {
  const fail = (what: string): never => {
    throw new DataError('invalid-argument', `dataset spec '${text}': ${what}`);
  };
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? text : text.slice(0, colon);
  if (colon < 0 || !(DATASET_SCHEMES as readonly string[]).includes(scheme)) {
    return fail(`unknown scheme '${scheme}'; known schemes: ${DATASET_SCHEMES.join(', ')}`);
  }
  const known = scheme as DatasetSpec['scheme'];
  const { body, range } = splitRange(text.slice(colon + 1), fail);
  const question = body.indexOf('?');
  const main = question < 0 ? body : body.slice(0, question);
  const parameters = readParameters(question < 0 ? '' : body.slice(question + 1), known, fail);
  const common: SpecCommon = { ...parseCommon(parameters, fail), ...(range ? { range } : {}) };
  switch (known) {
    case 'cifar10':
      return { scheme: 'cifar10', split: parseSplit(main, fail), ...common };
    case 'synthetic':
      return { ...parseSynthetic(main, parameters, fail), ...common };
    case 'json':
      return { scheme: 'json', path: pathOf(main, 'json', 'data/samples.json', fail), ...common };
    case 'images':
      return { scheme: 'images', path: pathOf(main, 'images', 'data/train', fail), ...parseImageParameters(parameters, fail), ...common };
    case 'npz':
      return { scheme: 'npz', path: pathOf(main, 'npz', 'data/train.npz', fail), ...arrayNames(parameters, fail), ...common };
  }
}

/** The canonical text of a spec; parseDatasetSpec(formatDatasetSpec(s)) equals s. */
export function formatDatasetSpec(spec: DatasetSpec): string {
  return baseSpecText(spec) + (spec.range ? formatRange(spec.range) : '');
}

/** The spec without its sample range: names the whole dataset a range is taken from. */
export function baseSpecText(spec: DatasetSpec): string {
  const parameters = [...schemeParameters(spec), ...commonParameters(spec)];
  return `${spec.scheme}:${mainText(spec)}${parameters.length === 0 ? '' : `?${parameters.join('&')}`}`;
}

/** The spec of the whole data its parameters select from: no split, normalization (unless kept) or range. */
export function sourceSpec(spec: DatasetSpec, keep?: 'normalize'): DatasetSpec {
  const copy: Record<string, unknown> = { ...spec };
  delete copy['trainVal'];
  if (keep !== 'normalize') delete copy['normalize'];
  delete copy['range'];
  return copy as unknown as DatasetSpec;
}

function mainText(spec: DatasetSpec): string {
  switch (spec.scheme) {
    case 'cifar10':
      return spec.split;
    case 'synthetic':
      return spec.kind;
    case 'json':
    case 'images':
    case 'npz':
      return spec.path;
  }
}

function schemeParameters(spec: DatasetSpec): string[] {
  switch (spec.scheme) {
    case 'synthetic':
      return [`n=${spec.size}`, `seed=${spec.seed}`, `classes=${spec.numClasses}`];
    case 'images':
      return [
        ...(spec.size ? [`size=${spec.size[0]}x${spec.size[1]}`] : []),
        ...(spec.fit ? [`fit=${spec.fit}`] : []),
        ...(spec.channels === undefined ? [] : [`channels=${spec.channels}`]),
        ...(spec.convert ? ['convert=true'] : []),
      ];
    case 'npz':
      return [...(spec.x === undefined ? [] : [`x=${spec.x}`]), ...(spec.y === undefined ? [] : [`y=${spec.y}`])];
    default:
      return [];
  }
}

function commonParameters(spec: SpecCommon): string[] {
  const split = spec.trainVal;
  return [
    ...(split ? [`split=${split.part}`, `val=${split.fraction}`, `split-seed=${split.seed}`] : []),
    ...(spec.normalize === undefined ? [] : [`normalize=${formatNormalization(spec.normalize)}`]),
  ];
}

function formatRange(range: SpecRange): string {
  return `[${range.start}:${range.end ?? ''}]`;
}

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

function readParameters(text: string, scheme: DatasetSpec['scheme'], fail: Fail): Parameters {
  const known = [...SCHEME_PARAMETERS[scheme], ...COMMON_PARAMETERS];
  const values = new Map<string, string>();
  for (const part of text === '' ? [] : text.split('&')) {
    const equals = part.indexOf('=');
    const key = equals < 0 ? part : part.slice(0, equals);
    if (!known.includes(key)) fail(`unknown parameter '${key}'; known: ${known.join(', ')}`);
    if (equals < 0) fail(`parameter ${key} needs a value (${key}=...)`);
    if (values.has(key)) fail(`parameter ${key} is given twice`);
    values.set(key, part.slice(equals + 1));
  }
  return values;
}

function integerParameter(parameters: Parameters, key: string, fallback: number, fail: Fail): number {
  const value = parameters.get(key);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) fail(`parameter ${key} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function parseCommon(parameters: Parameters, fail: Fail): Omit<SpecCommon, 'range'> {
  const part = parameters.get('split');
  if (part === undefined) {
    for (const key of ['val', 'split-seed']) if (parameters.has(key)) fail(`parameter ${key} needs split=train or split=val`);
  } else if (part !== 'train' && part !== 'val') {
    fail(`parameter split must be train or val, got '${part}'`);
  }
  const fractionText = parameters.get('val');
  const fraction = fractionText === undefined ? DEFAULT_VAL_FRACTION : Number(fractionText);
  if (fractionText !== undefined && (fractionText.trim() === '' || !(fraction > 0 && fraction < 1))) {
    fail(`parameter val must be a fraction in (0, 1), got '${fractionText}'`);
  }
  const normalizeText = parameters.get('normalize');
  let normalize: NormalizationSetting | undefined;
  if (normalizeText !== undefined) {
    try {
      normalize = parseNormalization(normalizeText);
    } catch (error) {
      fail(`parameter normalize: ${(error as Error).message}`);
    }
  }
  return {
    ...(part === undefined ? {} : { trainVal: { part: part as TrainValSplit['part'], fraction, seed: integerParameter(parameters, 'split-seed', 0, fail) } }),
    ...(normalize === undefined ? {} : { normalize }),
  };
}

function pathOf(main: string, scheme: string, example: string, fail: Fail): string {
  if (main === '') fail(`${scheme}: needs a ${scheme === 'images' ? 'folder' : 'file'} path, e.g. ${scheme}:${example}`);
  return main;
}

function parseSplit(body: string, fail: Fail): Cifar10Split {
  if (body === 'train' || body === 'test') return body;
  return fail(`unknown CIFAR-10 split '${body}'; known splits: train, test`);
}

function parseSynthetic(kind: string, parameters: Parameters, fail: Fail): SyntheticSpec {
  if (kind !== 'cifar') fail(`unknown synthetic kind '${kind}'; known kinds: cifar`);
  const n = integerParameter(parameters, 'n', SYNTHETIC_DEFAULTS.n, fail);
  const seed = integerParameter(parameters, 'seed', SYNTHETIC_DEFAULTS.seed, fail);
  const classes = integerParameter(parameters, 'classes', SYNTHETIC_DEFAULTS.classes, fail);
  if (n < 1) fail('parameter n must be at least 1');
  if (classes < 2) fail('parameter classes must be at least 2');
  return { scheme: 'synthetic', kind: 'cifar', size: n, seed, numClasses: classes };
}

function parseImageParameters(parameters: Parameters, fail: Fail): Pick<ImagesSpec, 'size' | 'fit' | 'channels' | 'convert'> {
  const size = parameters.get('size');
  const fit = parameters.get('fit');
  const channels = parameters.get('channels');
  const convert = parameters.get('convert');
  const match = size === undefined ? undefined : /^(\d+)x(\d+)$/.exec(size);
  if (size !== undefined && (!match || Number(match[1]) < 1 || Number(match[2]) < 1)) fail(`parameter size must be HEIGHTxWIDTH in pixels, e.g. 32x32, got '${size}'`);
  if (fit !== undefined && fit !== 'resize' && fit !== 'crop') fail(`parameter fit must be resize or crop, got '${fit}'`);
  if (channels !== undefined && !['1', '3', '4'].includes(channels)) fail(`parameter channels must be 1, 3 or 4, got '${channels}'`);
  if (convert !== undefined && convert !== 'true' && convert !== 'false') fail(`parameter convert must be true or false, got '${convert}'`);
  return {
    ...(match ? { size: [Number(match[1]), Number(match[2])] as const } : {}),
    ...(fit === undefined ? {} : { fit: fit as ImageFit }),
    ...(channels === undefined ? {} : { channels: Number(channels) }),
    ...(convert === 'true' ? { convert: true } : {}),
  };
}

function arrayNames(parameters: Parameters, fail: Fail): Pick<NpzSpec, 'x' | 'y'> {
  const names: { x?: string; y?: string } = {};
  for (const key of ['x', 'y'] as const) {
    const name = parameters.get(key);
    if (name === undefined) continue;
    if (!/^[\w.-]+$/.test(name)) fail(`parameter ${key} must name an array of the npz file (letters, digits, _ . -), got '${name}'`);
    names[key] = name;
  }
  return names;
}
