import { buildChannelGraph } from '@ippro/graph';
import type { ChannelGraph } from '@ippro/graph';
import { modelFromArtifact } from '@ippro/model-artifact';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ArtifactAccess } from './artifact-access';
import { invalidArgument } from './worker-error';

/** A built model lent to one call, with its channel graph built on first use. */
export interface PooledModel {
  readonly id: string;
  readonly model: LayersModel;
  graph(): ChannelGraph;
}

interface Entry extends PooledModel {
  cachedGraph?: ChannelGraph;
}

/**
 * Built models by artifact id. A call takes a model for itself alone (concurrent calls on one id
 * get separate instances, built from the cached artifact bytes) and gives it back when it left it
 * unchanged (scoring restores every flag and statistic it touches; evaluation changes nothing),
 * so the next call on that model skips fetching, building and graph analysis. A call that
 * changed the weights (FineTune) or failed disposes its instance instead. At most `maxIdle`
 * models wait, least recently returned evicted first.
 */
export class ModelPool {
  private readonly idle: Entry[] = [];

  constructor(
    private readonly artifacts: ArtifactAccess,
    private readonly maxIdle = 4,
  ) {}

  get idleCount(): number {
    return this.idle.length;
  }

  async acquire(id: string, field: string): Promise<PooledModel> {
    const index = this.idle.findIndex((entry) => entry.id === id);
    if (index >= 0) return this.idle.splice(index, 1)[0] as Entry;
    const bytes = await this.artifacts.get(id);
    let model: LayersModel;
    try {
      model = await modelFromArtifact(bytes);
    } catch (error) {
      throw invalidArgument(`${field} ${id}: ${(error as Error).message}`);
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

  /** Gives a model back (unchanged) or disposes it (changed, or its call failed). */
  release(lent: PooledModel, unchanged: boolean): void {
    if (!unchanged || this.maxIdle === 0) {
      lent.model.dispose();
      return;
    }
    this.idle.push(lent as Entry);
    while (this.idle.length > this.maxIdle) this.idle.shift()?.model.dispose();
  }

  /** Disposes every idle model. */
  clear(): void {
    for (const entry of this.idle.splice(0)) entry.model.dispose();
  }
}
