import type { LayerNode } from './channel-graph';
import { UnionFind } from './union-find';

/**
 * Every (layer output, channel) pair as one integer, numbered in layer order then channel
 * order, joined into coupled sets by a union-find, with the first reason (in that order) each
 * channel can never be removed.
 */
export class ChannelSpace {
  readonly layers: readonly LayerNode[];
  readonly size: number;
  private readonly sets: UnionFind;
  private readonly offsets = new Map<string, number>();
  private readonly channelCounts = new Map<string, number>();
  private readonly layerIndexOf: Int32Array;
  private readonly freezeReasons: (string | undefined)[];

  constructor(layers: readonly LayerNode[]) {
    this.layers = layers;
    const total = layers.reduce((sum, layer) => sum + layer.outputChannels, 0);
    this.size = total;
    this.sets = new UnionFind(total);
    this.layerIndexOf = new Int32Array(total);
    this.freezeReasons = new Array<string | undefined>(total);
    let offset = 0;
    layers.forEach((layer, index) => {
      this.offsets.set(layer.name, offset);
      this.channelCounts.set(layer.name, layer.outputChannels);
      this.layerIndexOf.fill(index, offset, offset + layer.outputChannels);
      offset += layer.outputChannels;
    });
  }

  id(layer: string, channel: number): number {
    const offset = this.offsets.get(layer);
    const count = this.channelCounts.get(layer) ?? 0;
    if (offset === undefined || channel < 0 || channel >= count) {
      throw new Error(`Channel graph has no channel ${channel} in layer "${layer}"`);
    }
    return offset + channel;
  }

  layerIndex(id: number): number {
    return this.layerIndexOf[id];
  }

  channel(id: number): number {
    return id - (this.offsets.get(this.layers[this.layerIndexOf[id]].name) as number);
  }

  root(id: number): number {
    return this.sets.find(id);
  }

  tie(layerA: string, channelA: number, layerB: string, channelB: number): void {
    this.sets.union(this.id(layerA, channelA), this.id(layerB, channelB));
  }

  freezeLayer(layer: string, reason: string): void {
    const count = this.channelCounts.get(layer) ?? 0;
    for (let c = 0; c < count; c++) {
      const id = this.id(layer, c);
      this.freezeReasons[id] ??= reason;
    }
  }

  freezeReason(id: number): string | undefined {
    return this.freezeReasons[id];
  }
}
