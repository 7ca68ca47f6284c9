import { artifactKeyOf } from '@ippro/artifacts';
import { formatDatasetSpec, parseDatasetSpec } from '@ippro/data';
import { datasetToArtifact } from '@ippro/model-artifact';
import { required } from '@ippro/settings';
import type { Resolved } from '@ippro/settings';
import type { DatasetRef } from '@ippro/workflow-core';
import { asBadInput, openDataset } from './cli-inputs';
import { asUsage } from './command-settings';
import type { RUN_INPUT_SETTINGS } from './run-settings';

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

/** A run's datasets as its input carries them, and the spec each ref was made from. */
export interface RunDatasets {
  scoring: DatasetRef;
  evaluation: DatasetRef;
  /** The fine-tuning data (the scoring data unless --finetune-data is given and there is fine-tuning). */
  tuning: DatasetRef;
  /** The spec a ref of this run was made from, as it was given. */
  specOf(ref: DatasetRef): string;
}

/** --data, --eval-data and --finetune-data as refs (each checked, and made an artifact where it must travel as one). */
export async function runDatasets(settings: Resolved<typeof RUN_INPUT_SETTINGS>, local: boolean, artifacts: Uint8Array[]): Promise<RunDatasets> {
  const values = settings.values;
  const refOf = datasetRefMaker({ local, ...(values.dataDir === undefined ? {} : { dataDir: values.dataDir }) }, artifacts);
  const specs = new Map<DatasetRef, string>();
  const make = async (spec: string, name: 'data' | 'evalData' | 'finetuneData'): Promise<DatasetRef> => {
    const ref = await refOf(spec, settings.where(name));
    if (!specs.has(ref)) specs.set(ref, spec);
    return ref;
  };
  const scoring = await make(asUsage(() => required(settings, 'data')), 'data');
  const evaluation = values.evalData === undefined ? scoring : await make(values.evalData, 'evalData');
  const tuning = values.finetuneData === undefined || values.finetuneSteps === 0 ? scoring : await make(values.finetuneData, 'finetuneData');
  return { scoring, evaluation, tuning, specOf: (ref) => specs.get(ref) ?? ref.spec };
}

/** The report's facts about the data a run's input uses: what each part of the run actually read. */
export function datasetFacts(input: { scoring?: { dataset: DatasetRef }; fineTune?: { dataset: DatasetRef }; evaluation: { dataset: DatasetRef } }, specOf: (ref: DatasetRef) => string): [string, string][] {
  return [
    ['scoring data', input.scoring === undefined ? 'none (the criterion reads only the weights)' : specOf(input.scoring.dataset)],
    ['fine-tuning data', input.fineTune === undefined ? 'none (no fine-tuning)' : specOf(input.fineTune.dataset)],
    ['evaluation data', specOf(input.evaluation.dataset)],
  ];
}
