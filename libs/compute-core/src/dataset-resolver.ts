import type { ArtifactStorage } from '@ippro/artifact-store';
import {
  CIFAR10_RECORDS_PER_FILE,
  CIFAR10_SAMPLE_SHAPE,
  CIFAR10_SPLIT_FILES,
  DataError,
  DrawnSamples,
  drawDescription,
  formatDatasetSpec,
  parseDatasetSpec,
  resolveDataset,
} from '@ippro/data';
import type { Cifar10Spec, LabeledDataset, SyntheticSpec } from '@ippro/data';
import { datasetFromArtifact } from '@ippro/model-artifact';
import type { DatasetRef, SampleDraw } from '@ippro/workflow-core';
import { checkArtifactId } from './checks';
import { ComputeInputError } from './compute-input-error';

/** The spec schemes a DatasetRef may name (`json:`, `images:` and `npz:` name files, so they are refused); the data itself may also come as a dataset artifact. */
export const DATASET_REF_SCHEMES = ['cifar10', 'synthetic'] as const;

/** A dataset a call reads, and the id that names it in statistics headers. */
export interface ResolvedDataset {
  dataset: LabeledDataset;
  /** The canonical spec, or `artifact:<sha256>` for a dataset artifact without a spec; a draw adds `{N drawn by seed S}`. */
  datasetId: string;
}

/** What shard planning needs to know about a dataset. */
export interface DatasetShape {
  size: number;
  sampleShape: readonly number[];
}

export interface DatasetResolverOptions {
  /** Directory of the CIFAR-10 .bin files (else IPPRO_DATA_DIR / the default cache). */
  cifar10Dir?: string;
  /** Datasets kept open, least recently used dropped first; default 4. */
  maxCached?: number;
}

/**
 * Opens the dataset of a DatasetRef: a named dataset (`cifar10:train`, `synthetic:cifar?...`)
 * opened here, or a dataset artifact read from the store by sha256. A few are kept open (they
 * are small, or read lazily by their readers). Refused: `json:`, `images:` and `npz:` specs (paths: send the
 * data as a dataset artifact) and specs with a sample range or a split (calls select data by batch range).
 */
export class DatasetResolver {
  private readonly cache = new Map<string, ResolvedDataset>();

  constructor(
    private readonly artifacts: ArtifactStorage,
    private readonly options: DatasetResolverOptions = {},
  ) {}

  /**
   * Size and sample shape. A CIFAR-10 split's are fixed by its spec, so planning shards of it
   * needs no dataset files here (the orchestrator's host has none; the workers read them).
   */
  async shape(ref: DatasetRef, field = 'dataset'): Promise<DatasetShape> {
    if (!hasArtifact(ref)) {
      const spec = this.parse(ref, field);
      if (spec.scheme === 'cifar10') {
        const size = CIFAR10_SPLIT_FILES[spec.split].length * CIFAR10_RECORDS_PER_FILE;
        if (ref.draw !== undefined) checkDraw(ref.draw, size, field);
        return { size: ref.draw?.size ?? size, sampleShape: CIFAR10_SAMPLE_SHAPE };
      }
    }
    const { dataset } = await this.resolve(ref, field);
    return { size: dataset.size, sampleShape: dataset.sampleShape };
  }

  async resolve(ref: DatasetRef, field = 'dataset'): Promise<ResolvedDataset> {
    const { draw } = ref;
    if (draw === undefined) return this.resolveWhole(ref, field);
    const whole = await this.resolveWhole(ref, field);
    checkDraw(draw, whole.dataset.size, field);
    const datasetId = drawDescription(whole.datasetId, draw.size, draw.seed);
    return this.cached(`${whole.datasetId} ${datasetId}`, async () => ({ dataset: new DrawnSamples(whole.dataset, draw.size, draw.seed), datasetId }));
  }

  private async resolveWhole(ref: DatasetRef, field: string): Promise<ResolvedDataset> {
    if (hasArtifact(ref)) {
      const id = checkArtifactId(ref.artifactId, `${field}.artifact_id`);
      const datasetId = ref.spec !== '' ? ref.spec : `artifact:${id}`;
      return this.cached(`${id} ${datasetId}`, async () => ({ dataset: datasetFromArtifact(await this.artifacts.get(id), { description: datasetId }), datasetId }));
    }
    const spec = this.parse(ref, field);
    const datasetId = formatDatasetSpec(spec);
    const options = this.options.cifar10Dir === undefined ? {} : { cifar10Dir: this.options.cifar10Dir };
    return this.cached(datasetId, async () => ({ dataset: resolveDataset(spec, options), datasetId }));
  }

  private parse(ref: DatasetRef, field: string): Cifar10Spec | SyntheticSpec {
    if (ref.spec === '') throw new ComputeInputError(`${field}.spec is empty and ${field}.artifact_id is not set`);
    let spec;
    try {
      spec = parseDatasetSpec(ref.spec);
    } catch (error) {
      if (error instanceof DataError) throw new ComputeInputError(`${field}.spec: ${error.message}`, 'InvalidArgument', { cause: error });
      throw error;
    }
    if (spec.scheme === 'json' || spec.scheme === 'images' || spec.scheme === 'npz') {
      throw new ComputeInputError(
        `${field}.spec '${ref.spec}': ${spec.scheme}: specs name files and are refused from the network; upload the data as a dataset artifact and set ${field}.artifact_id`,
      );
    }
    if (spec.range !== undefined || spec.trainVal !== undefined) {
      throw new ComputeInputError(
        `${field}.spec '${ref.spec}' carries a ${spec.range !== undefined ? 'sample range' : 'train/validation split'}; send the whole dataset's spec and select data with the batch range (or send the selection as a dataset artifact)`,
      );
    }
    return spec;
  }

  private async cached(key: string, open: () => Promise<ResolvedDataset>): Promise<ResolvedDataset> {
    const known = this.cache.get(key);
    const resolved = known ?? (await open());
    this.cache.delete(key);
    this.cache.set(key, resolved);
    while (this.cache.size > (this.options.maxCached ?? 4)) this.cache.delete(this.cache.keys().next().value as string);
    return resolved;
  }
}

function checkDraw(draw: SampleDraw, size: number, field: string): void {
  if (!Number.isSafeInteger(draw.size) || draw.size < 1 || draw.size > size) {
    throw new ComputeInputError(`${field}.draw.size must be 1 to ${size} (the samples of ${field}), got ${draw.size}`);
  }
  if (!Number.isSafeInteger(draw.seed) || draw.seed < 0) throw new ComputeInputError(`${field}.draw.seed must be a non-negative integer, got ${draw.seed}`);
}

function hasArtifact(ref: DatasetRef): ref is DatasetRef & { artifactId: string } {
  return ref.artifactId !== undefined && ref.artifactId !== '';
}
