import type { ChannelGraph } from '@ippro/graph';
import type { LayerChannelCounts } from './group-unit-layers';

/** Limits that keep every layer alive; they are fixed from ORIGINAL widths before ranking. */
export interface LayerLimits {
  /** No layer loses more than this fraction of its original output channels. */
  maxLayerRatio: number;
  /** No layer keeps fewer output channels than this. */
  minChannels: number;
}

/**
 * How many output channels each layer has lost (earlier rounds plus what this round has
 * chosen so far) against how many it may lose. Only layers with unit members are tracked.
 */
export class LayerBudget {
  private readonly widths = new Map<string, number>();
  private readonly removable = new Map<string, number>();
  private readonly removed = new Map<string, number>();

  constructor(graph: ChannelGraph, limits: LayerLimits) {
    for (const layer of graph.layers) {
      const width = layer.outputChannels;
      // The epsilon keeps e.g. 0.29 * 100 = 28.999999999999996 from losing a channel.
      const byRatio = Math.floor(limits.maxLayerRatio * width + 1e-9);
      this.widths.set(layer.name, width);
      this.removable.set(layer.name, Math.max(0, Math.min(byRatio, width - limits.minChannels)));
      this.removed.set(layer.name, 0);
    }
  }

  width(layer: string): number {
    return this.lookup(this.widths, layer);
  }

  removedIn(layer: string): number {
    return this.lookup(this.removed, layer);
  }

  /** The narrowest width the limits allow. */
  minKept(layer: string): number {
    return this.width(layer) - this.lookup(this.removable, layer);
  }

  /** Output channels left once what is recorded plus `pending` is removed. */
  keptAfter(layer: string, pending?: LayerChannelCounts): number {
    return this.width(layer) - this.removedIn(layer) - (pending?.get(layer) ?? 0);
  }

  /** Whether removing `counts` on top of the record and `pending` keeps every layer within its limits. */
  allows(counts: LayerChannelCounts, pending?: LayerChannelCounts): boolean {
    for (const [layer, channels] of counts) {
      if (this.keptAfter(layer, pending) - channels < this.minKept(layer)) {
        return false;
      }
    }
    return true;
  }

  /** Records a removal. Earlier rounds are recorded without checks: they already happened. */
  record(counts: LayerChannelCounts): void {
    for (const [layer, channels] of counts) {
      this.removed.set(layer, this.removedIn(layer) + channels);
    }
  }

  private lookup(table: ReadonlyMap<string, number>, layer: string): number {
    const value = table.get(layer);
    if (value === undefined) {
      throw new Error(`group member refers to layer ${JSON.stringify(layer)}, which is not in the graph`);
    }
    return value;
  }
}

/** Adds `counts` into `total` in place; used to build a pending removal. */
export function addCounts(total: Map<string, number>, counts: LayerChannelCounts): void {
  for (const [layer, channels] of counts) {
    total.set(layer, (total.get(layer) ?? 0) + channels);
  }
}
