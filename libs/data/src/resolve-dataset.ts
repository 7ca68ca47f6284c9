import { resolve } from 'node:path';
import { openCifar10 } from './cifar10-dataset';
import { resolveCifar10Dir } from './cifar10-location';
import { DatasetSlice } from './dataset-slice';
import {
  baseSpecText,
  formatDatasetSpec,
  parseDatasetSpec,
  type DatasetSpec,
} from './dataset-spec';
import { DataError } from './data-error';
import { JsonDataset } from './json-dataset';
import type { LabeledDataset } from './labeled-dataset';
import { SyntheticImageDataset } from './synthetic-dataset';

export interface ResolveDatasetOptions {
  /** Directory holding the CIFAR-10 .bin files (e.g. a shared dataset folder); wins over env. */
  readonly cifar10Dir?: string;
  /** Environment to read IPPRO_DATA_DIR from; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Base for relative json: paths; defaults to the working directory. */
  readonly cwd?: string;
}

/** Opens the dataset a spec names (text or parsed); a sample range becomes a re-indexed view. */
export function resolveDataset(
  spec: string | DatasetSpec,
  options: ResolveDatasetOptions = {},
): LabeledDataset {
  const parsed = typeof spec === 'string' ? parseDatasetSpec(spec) : spec;
  const whole = openWhole(parsed, options);
  if (!parsed.range) return whole;
  const { start, end = whole.size } = parsed.range;
  const description = formatDatasetSpec(parsed);
  if (start >= whole.size) {
    throw new DataError(
      'out-of-range',
      `${description}: sample range starts at ${start}, outside ${whole.description}, ` +
        `which has ${whole.size} samples`,
    );
  }
  return new DatasetSlice(description, whole, { start, end });
}

function openWhole(spec: DatasetSpec, options: ResolveDatasetOptions): LabeledDataset {
  switch (spec.scheme) {
    case 'cifar10':
      return openCifar10(resolveCifar10Dir(options.cifar10Dir, options.env), spec.split);
    case 'synthetic':
      return new SyntheticImageDataset(baseSpecText(spec), spec);
    case 'json':
      return JsonDataset.read(resolve(options.cwd ?? process.cwd(), spec.path));
  }
}
