import { artifactKeyOf } from '@ippro/artifact-store';
import { CIFAR10_RECORDS_PER_FILE, CIFAR10_SPLIT_FILES, formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { datasetToArtifact } from '@ippro/model-artifact';
import type { ClassifierOutput } from '@ippro/models';
import type { DatasetRef } from '@ippro/workflow-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { asBadInput, checkModelFits, openDataset, specWithNormalize } from './cli-inputs';
import { refText } from './run-submission';

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

/** The datasets of a run's input, each spec checked (opened, and fitted against the model) once. */
export interface RunDatasets {
  /**
   * The ref a run's input carries, as `prune` makes them: named data every executor opens by
   * itself (synthetic; CIFAR-10 splits, which workers read from their own copy), and everything
   * else (a file, an image folder, an npz file, a sample range, a split) as a dataset artifact
   * added to the run's artifacts, because workers never read paths from the network.
   */
  ref(spec: string, flag: string): Promise<DatasetRef>;
  /** How many samples the spec names (a whole CIFAR-10 split's from its spec alone, without the files). */
  size(spec: string, flag: string): Promise<number>;
  /** The spec a ref was made from, as it was given (a ref that travels as an artifact has no spec of its own). */
  specOf(ref: DatasetRef): string;
}

export function runDatasets(options: RunDataOptions, artifacts: Uint8Array[]): RunDatasets {
  const refs = new Map<string, DatasetRef>();
  const opened = new Map<string, LabeledDataset>();
  const parse = async (given: string, flag: string): Promise<{ spec: string; parsed: ReturnType<typeof parseDatasetSpec> }> => {
    const spec = await asBadInput(flag, () => specWithNormalize(given, options.normalize));
    return { spec, parsed: await asBadInput(flag, () => parseDatasetSpec(spec)) };
  };
  const open = async (given: string, spec: string, flag: string): Promise<LabeledDataset> => {
    const known = opened.get(given);
    if (known !== undefined) return known;
    const dataset = await openDataset(spec, flag, { ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }), model: options.model, quiet: options.quiet });
    checkModelFits(options.model, dataset, options.output, flag, options.modelName);
    opened.set(given, dataset);
    return dataset;
  };
  return {
    async ref(given, flag) {
      const known = refs.get(given);
      if (known !== undefined) return known;
      const { spec, parsed } = await parse(given, flag);
      const named = parsed.scheme === 'cifar10' || parsed.scheme === 'synthetic';
      const selected = parsed.range !== undefined || parsed.trainVal !== undefined;
      let ref: DatasetRef;
      if (named && !selected && parsed.scheme === 'cifar10' && !options.local) {
        // The workers read their own copy; this host may have none.
        ref = { spec: formatDatasetSpec(parsed) };
      } else {
        const dataset = await open(given, spec, flag);
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
    },
    async size(given, flag) {
      const known = opened.get(given);
      if (known !== undefined) return known.size;
      const { spec, parsed } = await parse(given, flag);
      if (parsed.scheme === 'cifar10' && parsed.range === undefined && parsed.trainVal === undefined) {
        return CIFAR10_SPLIT_FILES[parsed.split].length * CIFAR10_RECORDS_PER_FILE;
      }
      return (await open(given, spec, flag)).size;
    },
    specOf(ref) {
      for (const [given, made] of refs) if (made.spec === ref.spec && made.artifactId === ref.artifactId) return given;
      return refText(ref);
    },
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
