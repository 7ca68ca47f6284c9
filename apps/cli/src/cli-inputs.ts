import { stat, readdir } from 'node:fs/promises';
import { formatDatasetSpec, parseDatasetSpec, parseNormalization, resolveDataset } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { buildChannelGraph, loadLayersModelFromDir, type ChannelGraph } from '@ippro/graph';
import { modelDataMismatch, resolveOutputKind } from '@ippro/models';
import type { ClassifierOutput, OutputSetting } from '@ippro/models';
import { initRuntime, parseBackendRequest } from '@ippro/runtime';
import { toggle } from '@ippro/settings';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UsageError } from './exit-codes';

/**
 * Everything a command reads before it starts work goes through here, so any failure is
 * reported as bad input (exit code 2) before anything is written.
 */
export async function asBadInput<T>(what: string, load: () => T | Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${what}: ${message}`);
  }
}

export async function startBackend(name: string, quiet: boolean): Promise<void> {
  await asBadInput('--backend', () =>
    initRuntime({
      backend: parseBackendRequest(name),
      report: (line) => {
        if (!quiet) process.stderr.write(`${line}\n`);
      },
    }),
  );
}

export function loadModel(dir: string): Promise<LayersModel> {
  return asBadInput(`model ${dir}`, () => loadLayersModelFromDir(dir));
}

/** How a command treats a layer the channel graph cannot prune. */
export const LAYER_SETTINGS = {
  strictLayers: toggle({
    help: 'refuse a model with a layer ippro cannot prune (an unknown class, a shared layer, an attention with a mask, cross-attention or other axes), exit 2, instead of keeping that layer whole with a warning',
  }),
};

/**
 * The model's channel graph. A layer the graph cannot prune is kept whole, with one warning on
 * stderr naming it and why (`warn`); with `strict` it is bad input (exit 2) instead.
 */
export async function loadModelGraph(model: LayersModel, dir: string, options: { strict: boolean; warn: boolean }): Promise<ChannelGraph> {
  const graph = await asBadInput(`model ${dir}`, () => buildChannelGraph(model, { unknownLayers: options.strict ? 'error' : 'freeze' }));
  if (options.warn) {
    for (const layer of graph.layers.filter((node) => node.frozenReason !== undefined)) {
      process.stderr.write(`ippro: warning: layer '${layer.name}' (${layer.className}) is kept whole: it ${layer.frozenReason}\n`);
    }
  }
  return graph;
}

/** How a command opens its datasets: where CIFAR-10 is, --normalize, and the model the data feeds (images are fitted to its input). */
export interface DataOptions {
  dataDir?: string;
  normalize?: string;
  model?: LayersModel;
  /** No `classes:` line on stderr. */
  quiet?: boolean;
}

/** The spec with --normalize written into it, unless it states its own normalize=. */
export function specWithNormalize(spec: string, normalize: string | undefined): string {
  if (normalize === undefined) return spec;
  const parsed = parseDatasetSpec(spec);
  return parsed.normalize === undefined ? formatDatasetSpec({ ...parsed, normalize: parseNormalization(normalize) }) : spec;
}

/**
 * Opens a dataset spec as the command will read it (any fault is bad input naming `flag`), and
 * prints the class order of data that names its classes (`classes: cat=0, dog=1`).
 */
export async function openDataset(spec: string, flag: string, options: DataOptions = {}): Promise<LabeledDataset> {
  const dataset = await asBadInput(flag, () =>
    resolveDataset(specWithNormalize(spec, options.normalize), {
      ...(options.dataDir === undefined ? {} : { cifar10Dir: options.dataDir }),
      ...(options.model === undefined ? {} : { modelInput: options.model.inputs[0]?.shape.slice(1) ?? [] }),
    }),
  );
  if (dataset.classNames !== undefined && options.quiet !== true) {
    process.stderr.write(`classes: ${dataset.classNames.map((name, label) => `${name}=${label}`).join(', ')} (${flag} ${spec})\n`);
  }
  return dataset;
}

/** The model's output kind: `setting`, checked against the model, or read from it ('auto'); an output ippro cannot score is bad input. */
export function resolveOutput(model: LayersModel, setting: OutputSetting, modelDir: string): Promise<ClassifierOutput> {
  return asBadInput(`model ${modelDir}`, () => resolveOutputKind(model, setting));
}

/** The model (`what`, e.g. `model DIR`) can be trained and evaluated on the dataset (input shape, output kind and labels); bad input otherwise. */
export function checkModelFits(model: LayersModel, dataset: LabeledDataset, output: OutputSetting, flag: string, what: string): void {
  const mismatch = modelDataMismatch(model, dataset, output);
  if (mismatch !== undefined) throw new UsageError(`${what} does not fit ${flag} ${dataset.description}: ${mismatch}`);
}

/** --out must be new or empty: a run never overwrites earlier results. */
export async function checkOutputDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing === undefined) return;
  if (!existing.isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  if ((await readdir(dir)).length > 0) throw new UsageError(`--out ${dir} is not empty; choose a new directory`);
}

export function parseNumberFlag(flag: string, value: string, check: (n: number) => boolean, expected: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || !check(parsed)) {
    throw new UsageError(`${flag} must be ${expected}, got '${value}'`);
  }
  return parsed;
}

export const isPositiveInteger = (n: number): boolean => Number.isInteger(n) && n > 0;
export const isNonNegativeInteger = (n: number): boolean => Number.isInteger(n) && n >= 0;
export const isPositive = (n: number): boolean => n > 0;
export const isOpenFraction = (n: number): boolean => n > 0 && n < 1;
