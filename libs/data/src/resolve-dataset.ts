import { dirname, resolve } from 'node:path';
import { openCifar10 } from './cifar10-dataset';
import { resolveCifar10Dir } from './cifar10-location';
import { readSidecar, type DataSidecar } from './data-sidecar';
import { DataError } from './data-error';
import { DatasetSlice } from './dataset-slice';
import { baseSpecText, formatDatasetSpec, parseDatasetSpec, sourceSpec, type DatasetSpec } from './dataset-spec';
import { DatasetSubset, RestatedDataset, type ViewOverrides } from './dataset-view';
import { ImageFolderDataset } from './image-folder-dataset';
import { JsonDataset } from './json-dataset';
import type { LabeledDataset } from './labeled-dataset';
import { normalizationMismatch } from './normalization-setting';
import { NpzDataset } from './npz-dataset';
import { SyntheticImageDataset } from './synthetic-dataset';
import { trainValIndices } from './train-val-split';

export interface ResolveDatasetOptions {
  /** Directory holding the CIFAR-10 .bin files (e.g. a shared dataset folder); wins over env. */
  readonly cifar10Dir?: string;
  /** Environment to read IPPRO_DATA_DIR from; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Base for relative json:, images: and npz: paths; defaults to the working directory. */
  readonly cwd?: string;
  /** The sample shape of the model the data feeds ([height, width, channels]; null: any): images are fitted to it. */
  readonly modelInput?: readonly (number | null)[];
}

/**
 * Opens the dataset a spec names (text or parsed): the data, its normalization (the spec's, else a
 * sidecar file's, else the data's own: CIFAR-10's statistics), then its train/validation split, then
 * its sample range as a re-indexed view.
 */
export function resolveDataset(spec: string | DatasetSpec, options: ResolveDatasetOptions = {}): LabeledDataset {
  const parsed = typeof spec === 'string' ? parseDatasetSpec(spec) : spec;
  const sidecar = sidecarOf(parsed, options);
  let dataset = restated(parsed, openWhole(parsed, sidecar, options), sidecar, options);
  if (parsed.trainVal !== undefined) {
    dataset = new DatasetSubset(baseSpecText(parsed), dataset, trainValIndices(dataset, parsed.trainVal));
  }
  if (!parsed.range) return dataset;
  const { start, end = dataset.size } = parsed.range;
  const description = formatDatasetSpec(parsed);
  if (start >= dataset.size) {
    throw new DataError(
      'out-of-range',
      `${description}: sample range starts at ${start}, outside ${dataset.description}, ` +
        `which has ${dataset.size} samples`,
    );
  }
  return new DatasetSlice(description, dataset, { start, end });
}

function pathOf(spec: DatasetSpec & { path: string }, options: ResolveDatasetOptions): string {
  return resolve(options.cwd ?? process.cwd(), spec.path);
}

/** The sidecar file of file-based data: inside an image folder, beside an npz or JSON file. */
function sidecarOf(spec: DatasetSpec, options: ResolveDatasetOptions): DataSidecar | undefined {
  switch (spec.scheme) {
    case 'images':
      return readSidecar(pathOf(spec, options));
    case 'npz':
    case 'json':
      return readSidecar(dirname(pathOf(spec, options)));
    default:
      return undefined;
  }
}

function openWhole(spec: DatasetSpec, sidecar: DataSidecar | undefined, options: ResolveDatasetOptions): LabeledDataset {
  const description = baseSpecText(sourceSpec(spec));
  const classes = sidecar?.classes === undefined ? {} : { classes: sidecar.classes, classesFrom: sidecar.path };
  switch (spec.scheme) {
    case 'cifar10':
      return openCifar10(resolveCifar10Dir(options.cifar10Dir, options.env), spec.split);
    case 'synthetic':
      return new SyntheticImageDataset(description, spec);
    case 'json':
      return JsonDataset.read(pathOf(spec, options));
    case 'images': {
      const { size, fit, channels, convert } = spec;
      return ImageFolderDataset.read(pathOf(spec, options), description, {
        ...classes,
        ...(size === undefined ? {} : { size }),
        ...(fit === undefined ? {} : { fit }),
        ...(channels === undefined ? {} : { channels }),
        ...(convert === undefined ? {} : { convert }),
        ...(options.modelInput === undefined ? {} : { modelInput: options.modelInput }),
      });
    }
    case 'npz':
      return NpzDataset.read(pathOf(spec, options), description, { ...classes, ...(spec.x === undefined ? {} : { x: spec.x }), ...(spec.y === undefined ? {} : { y: spec.y }) });
  }
}

/**
 * The dataset with the spec's normalization (else the sidecar's) and, for JSON data, the sidecar's
 * classes; statistics that do not fit the samples' channels are refused.
 */
function restated(spec: DatasetSpec, dataset: LabeledDataset, sidecar: DataSidecar | undefined, options: ResolveDatasetOptions): LabeledDataset {
  const overrides: { -readonly [K in keyof ViewOverrides]: ViewOverrides[K] } = {};
  const normalize = spec.normalize ?? sidecar?.normalization;
  if (normalize !== undefined) {
    const mismatch = normalize === 'none' ? undefined : normalizationMismatch(normalize, dataset.sampleShape);
    const from = spec.normalize === undefined ? (sidecar as DataSidecar).path : 'its normalize parameter';
    if (mismatch !== undefined) throw new DataError('invalid-argument', `${formatDatasetSpec(spec)}: ${mismatch} (from ${from})`);
    overrides.normalize = normalize;
  }
  if (spec.scheme === 'json' && sidecar?.classes !== undefined) {
    const classes = sidecar.classes;
    for (let index = 0; index < dataset.size; index += 1) {
      if (dataset.label(index) >= classes.length) {
        throw new DataError('invalid-argument', `JSON dataset ${pathOf(spec, options)}: labels[${index}] is ${dataset.label(index)}, outside the ${classes.length} classes of ${sidecar.path}`);
      }
    }
    overrides.numClasses = classes.length;
    overrides.classNames = classes;
  }
  return Object.keys(overrides).length === 0 ? dataset : new RestatedDataset(baseSpecText(sourceSpec(spec, 'normalize')), dataset, overrides);
}
