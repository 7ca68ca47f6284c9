import { artifactKeyOf } from '@ippro/artifacts';
import { CIFAR10_RECORDS_PER_FILE, CIFAR10_SPLIT_FILES, formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { datasetToArtifact } from '@ippro/model-artifact';
import type { DatasetRef } from '@ippro/workflow-core';
import { asBadInput, openDataset } from './cli-inputs';

/** The datasets of a run's input, each spec checked (opened) once. */
export interface RunDatasets {
  /**
   * The ref a run's input carries, as `prune` makes them: named data every executor opens by
   * itself (synthetic; CIFAR-10 splits, which workers read from their own copy), and everything
   * else (a file, a sample range) as a dataset artifact added to the run's artifacts, because
   * workers never read paths from the network.
   */
  ref(spec: string, flag: string): Promise<DatasetRef>;
  /** How many samples the spec names (a whole CIFAR-10 split's from its spec alone, without the files). */
  size(spec: string, flag: string): Promise<number>;
}

export function runDatasets(options: { local: boolean; dataDir?: string }, artifacts: Uint8Array[]): RunDatasets {
  const refs = new Map<string, DatasetRef>();
  const opened = new Map<string, LabeledDataset>();
  const open = async (spec: string, flag: string): Promise<LabeledDataset> => {
    const known = opened.get(spec) ?? (await openDataset(spec, flag, options.dataDir));
    opened.set(spec, known);
    return known;
  };
  return {
    async ref(spec, flag) {
      const known = refs.get(spec);
      if (known !== undefined) return known;
      const parsed = await asBadInput(flag, () => parseDatasetSpec(spec));
      let ref: DatasetRef;
      if (parsed.scheme !== 'json' && parsed.range === undefined && !(parsed.scheme === 'cifar10' && !options.local)) {
        await open(spec, flag);
        ref = { spec: formatDatasetSpec(parsed) };
      } else if (parsed.scheme === 'cifar10' && parsed.range === undefined) {
        ref = { spec: formatDatasetSpec(parsed) };
      } else {
        const bytes = datasetToArtifact(await open(spec, flag));
        artifacts.push(bytes);
        ref = { spec: '', artifactId: artifactKeyOf(bytes) };
      }
      refs.set(spec, ref);
      return ref;
    },
    async size(spec, flag) {
      const known = opened.get(spec);
      if (known !== undefined) return known.size;
      const parsed = await asBadInput(flag, () => parseDatasetSpec(spec));
      if (parsed.scheme === 'cifar10' && parsed.range === undefined) return CIFAR10_SPLIT_FILES[parsed.split].length * CIFAR10_RECORDS_PER_FILE;
      return (await open(spec, flag)).size;
    },
  };
}
