import type { ArtifactStorage } from '@ippro/artifact-store';
import { buildChannelGraph } from '@ippro/graph';
import type { ChannelGraph } from '@ippro/graph';
import { modelFromArtifact } from '@ippro/model-artifact';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ComputeInputError } from './compute-input-error';

/** A built model lent to one call, with its channel graph built on first use. */
export interface PooledModel {
  readonly id: string;
  readonly model: LayersModel;
  graph(): ChannelGraph;
}

interface Entry extends PooledModel {
  cachedGraph?: ChannelGraph;
}

/** What a call does to the model it borrows. */
export type ModelUse = 'reads' | 'changes';

/**
 * Built models by artifact id. A call takes a model for itself alone (concurrent calls on one id
 * get separate instances, built from the artifact bytes) and gives it back when it left it
 * unchanged (scoring restores every flag and statistic it touches; evaluation changes nothing),
 * so the next call on that model skips fetching, building and graph analysis. A call that
 * changed the weights (fine-tuning) or failed disposes its instance instead. At most `maxIdle`
 * models wait, least recently returned evicted first; with 0 every call builds its own.
 */
export class ModelPool {
  private readonly idle: Entry[] = [];

  constructor(
    private readonly artifacts: ArtifactStorage,
    private readonly maxIdle: number,
  ) {}

  /** Runs `use` on a model of artifact `id` (named `field` in errors) and gives it back or disposes it. */
  async borrow<T>(id: string, field: string, use: ModelUse, work: (lent: PooledModel) => Promise<T>): Promise<T> {
    const lent = await this.acquire(id, field);
    let succeeded = false;
    try {
      const result = await work(lent);
      succeeded = true;
      return result;
    } finally {
      this.release(lent, succeeded && use === 'reads');
    }
  }

  /** Disposes every idle model. */
  clear(): void {
    for (const entry of this.idle.splice(0)) entry.model.dispose();
  }

  private async acquire(id: string, field: string): Promise<PooledModel> {
    const index = this.idle.findIndex((entry) => entry.id === id);
    if (index >= 0) return this.idle.splice(index, 1)[0] as Entry;
    const bytes = await this.artifacts.get(id);
    let model: LayersModel;
    try {
      model = await modelFromArtifact(bytes);
    } catch (error) {
      throw new ComputeInputError(`${field} ${id}: ${(error as Error).message}`, 'InvalidArgument', { cause: error, artifactId: id });
    }
    const entry: Entry = {
      id,
      model,
      graph: () => {
        entry.cachedGraph ??= buildChannelGraph(model);
        return entry.cachedGraph;
      },
    };
    return entry;
  }

  private release(lent: PooledModel, unchanged: boolean): void {
    if (!unchanged || this.maxIdle === 0) {
      lent.model.dispose();
      return;
    }
    this.idle.push(lent as Entry);
    while (this.idle.length > this.maxIdle) this.idle.shift()?.model.dispose();
  }
}
