import { artifactKeyOf } from '@ippro/artifact-store';
import { formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import { datasetToArtifact } from '@ippro/model-artifact';
import type { DatasetRef } from '@ippro/workflow-core';
import { asBadInput, openDataset } from './cli-inputs';

/**
 * Dataset specs -> the refs a run's input carries, as `prune` makes them: named data every
 * executor opens by itself (synthetic; CIFAR-10 splits, which workers read from their own copy),
 * and everything else (a file, a sample range) as a dataset artifact added to `artifacts`,
 * because workers never read paths from the network. Each spec is checked (opened) once.
 */
export function datasetRefMaker(options: { local: boolean; dataDir?: string }, artifacts: Uint8Array[]): (spec: string, flag: string) => Promise<DatasetRef> {
  const refs = new Map<string, DatasetRef>();
  return async (spec, flag) => {
    const known = refs.get(spec);
    if (known !== undefined) return known;
    const parsed = await asBadInput(flag, () => parseDatasetSpec(spec));
    let ref: DatasetRef;
    if (parsed.scheme !== 'json' && parsed.range === undefined && !(parsed.scheme === 'cifar10' && !options.local)) {
      await openDataset(spec, flag, options.dataDir);
      ref = { spec: formatDatasetSpec(parsed) };
    } else if (parsed.scheme === 'cifar10' && parsed.range === undefined) {
      ref = { spec: formatDatasetSpec(parsed) };
    } else {
      const bytes = datasetToArtifact(await openDataset(spec, flag, options.dataDir));
      artifacts.push(bytes);
      ref = { spec: '', artifactId: artifactKeyOf(bytes) };
    }
    refs.set(spec, ref);
    return ref;
  };
}
