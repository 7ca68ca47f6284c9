import { artifactKeyOf } from '@ippro/artifact-store';
import { formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import { datasetToArtifact } from '@ippro/model-artifact';
import type { ClassifierOutput } from '@ippro/models';
import type { DatasetRef } from '@ippro/workflow-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { asBadInput, checkModelFits, openDataset, specWithNormalize } from './cli-inputs';

/** What a run's datasets are checked against and how they are opened. */
export interface RunDataOptions {
  local: boolean;
  dataDir?: string;
  /** --normalize, written into every spec that has no normalize= of its own. */
  normalize?: string;
  /** The model the data feeds (named `modelName` in messages), and its resolved output kind: every dataset opened here is checked against them. */
  model: LayersModel;
  modelName: string;
  output: ClassifierOutput;
  quiet: boolean;
}

/**
 * Dataset specs -> the refs a run's input carries, as `prune` makes them: named data every
 * executor opens by itself (synthetic; CIFAR-10 splits, which workers read from their own copy),
 * and everything else (a file, an image folder, an npz file, a sample range, a split) as a dataset
 * artifact added to `artifacts`, because workers never read paths from the network. Each spec is
 * checked (opened, and fitted against the model) once.
 */
export function datasetRefMaker(options: RunDataOptions, artifacts: Uint8Array[]): (spec: string, flag: string) => Promise<DatasetRef> {
  const refs = new Map<string, DatasetRef>();
  return async (given, flag) => {
    const known = refs.get(given);
    if (known !== undefined) return known;
    const spec = await asBadInput(flag, () => specWithNormalize(given, options.normalize));
    const parsed = await asBadInput(flag, () => parseDatasetSpec(spec));
    const named = parsed.scheme === 'cifar10' || parsed.scheme === 'synthetic';
    const selected = parsed.range !== undefined || parsed.trainVal !== undefined;
    let ref: DatasetRef;
    if (named && !selected && parsed.scheme === 'cifar10' && !options.local) {
      // The workers read their own copy; this host may have none.
      ref = { spec: formatDatasetSpec(parsed) };
    } else {
      const dataset = await openDataset(spec, flag, { ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }), model: options.model, quiet: options.quiet });
      checkModelFits(options.model, dataset, options.output, flag, options.modelName);
      if (named && !selected) {
        ref = { spec: formatDatasetSpec(parsed) };
      } else {
        const bytes = datasetToArtifact(dataset);
        artifacts.push(bytes);
        ref = { spec: '', artifactId: artifactKeyOf(bytes) };
      }
    }
    refs.set(given, ref);
    return ref;
  };
}

/** The report's facts about the data a run's input uses: what each part of the run actually read, by the spec it was given as. */
export function datasetFacts(input: { scoring?: { dataset: DatasetRef }; fineTune?: { dataset: DatasetRef }; evaluation: { dataset: DatasetRef } }, specOf: (ref: DatasetRef) => string): [string, string][] {
  return [
    ['scoring data', input.scoring === undefined ? 'none (the criterion reads only the weights)' : specOf(input.scoring.dataset)],
    ['fine-tuning data', input.fineTune === undefined ? 'none (no fine-tuning)' : specOf(input.fineTune.dataset)],
    ['evaluation data', specOf(input.evaluation.dataset)],
  ];
}
