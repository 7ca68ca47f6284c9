import { DataError, formatDatasetSpec, parseDatasetSpec, resolveDataset } from '@ippro/data';
import type { LabeledDataset } from '@ippro/data';
import { datasetFromArtifact } from '@ippro/model-artifact';
import type { protocol } from '@ippro/artifacts';
import type { ArtifactAccess } from './artifact-access';
import { checkArtifactId } from './request-checks';
import { invalidArgument } from './worker-error';

/** A dataset a call reads, and the id that names it in statistics headers. */
export interface ResolvedDataset {
  dataset: LabeledDataset;
  /** The canonical spec text, or `artifact:<sha256>` for a dataset artifact without a spec. */
  datasetId: string;
}

/** The schemes a worker resolves from the network (`json:` names a file, so it is refused). */
export const NETWORK_DATASET_SCHEMES = ['cifar10', 'synthetic'] as const;

/**
 * Resolves the DatasetSpec of a call: a named dataset (`cifar10:train`, `synthetic:cifar?...`)
 * opened on this worker, or a dataset artifact fetched by sha256. Opened datasets are kept
 * (a few; they are small or memory-mapped by their readers).
 */
export class WorkerDatasets {
  private readonly cache = new Map<string, LabeledDataset>();

  constructor(
    private readonly artifacts: ArtifactAccess,
    private readonly options: { cifar10Dir?: string; maxCached?: number } = {},
  ) {}

  async resolve(spec: protocol.DatasetSpec__Output | null | undefined, field = 'dataset'): Promise<ResolvedDataset> {
    if (spec == null) throw invalidArgument(`${field} is required (a spec or an artifact_id)`);
    if (spec.artifactId !== '') {
      const id = checkArtifactId(spec.artifactId, `${field}.artifact_id`);
      const datasetId = spec.spec !== '' ? spec.spec : `artifact:${id}`;
      const key = `${id} ${datasetId}`;
      const cached = this.cache.get(key);
      if (cached !== undefined) return { dataset: this.touch(key, cached), datasetId };
      const bytes = await this.artifacts.get(id);
      const dataset = datasetFromArtifact(bytes, { description: datasetId });
      return { dataset: this.remember(key, dataset), datasetId };
    }
    if (spec.spec === '') throw invalidArgument(`${field}.spec is empty and ${field}.artifact_id is not set`);
    let parsed;
    try {
      parsed = parseDatasetSpec(spec.spec);
    } catch (error) {
      if (error instanceof DataError) throw invalidArgument(`${field}.spec: ${error.message}`);
      throw error;
    }
    if (parsed.scheme === 'json') {
      throw invalidArgument(`${field}.spec '${spec.spec}': json: specs name files and are refused from the network; upload the data as a dataset artifact and set ${field}.artifact_id`);
    }
    if (parsed.range !== undefined) {
      throw invalidArgument(`${field}.spec '${spec.spec}' carries a sample range; send the whole dataset's spec and select data with the batch range`);
    }
    const datasetId = formatDatasetSpec(parsed);
    const cached = this.cache.get(datasetId);
    if (cached !== undefined) return { dataset: this.touch(datasetId, cached), datasetId };
    const options = this.options.cifar10Dir === undefined ? {} : { cifar10Dir: this.options.cifar10Dir };
    const dataset = resolveDataset(parsed, options);
    return { dataset: this.remember(datasetId, dataset), datasetId };
  }

  private touch(key: string, dataset: LabeledDataset): LabeledDataset {
    this.cache.delete(key);
    this.cache.set(key, dataset);
    return dataset;
  }

  private remember(key: string, dataset: LabeledDataset): LabeledDataset {
    this.cache.set(key, dataset);
    const limit = this.options.maxCached ?? 4;
    while (this.cache.size > limit) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    return dataset;
  }
}
