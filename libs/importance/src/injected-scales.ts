import * as tf from '@tensorflow/tfjs-core';
import type { ChannelGraph, LayerTap } from '@ippro/graph';
import type { GroupLayout } from './group-layout';

/**
 * The all-ones scale vectors s of IPPRO.md §2, one per injection layer, as variables so one
 * backward pass yields dL/ds. Multiplying by exactly 1 leaves every output value unchanged
 * (the trajectory reading moves them away from 1 with `assign`).
 */
export class InjectedScales {
  readonly variables = new Map<string, tf.Variable>();

  constructor(graph: ChannelGraph, layouts: readonly GroupLayout[]) {
    for (const layout of layouts) {
      for (const { layer } of layout.injection) {
        if (!this.variables.has(layer)) {
          this.variables.set(layer, this.createScale(graph, layer));
        }
      }
    }
  }

  private createScale(graph: ChannelGraph, layer: string): tf.Variable {
    const node = graph.layers.find((candidate) => candidate.name === layer);
    if (node === undefined) {
      throw new Error(`injection layer '${layer}' is not in the channel graph`);
    }
    return tf.tidy(() => tf.variable(tf.ones([node.outputChannels]), true));
  }

  /** Sets an injection layer's scale, one value per channel. */
  assign(layer: string, values: Float32Array): void {
    const variable = this.variables.get(layer);
    if (variable === undefined) {
      throw new Error(`no scale is injected at layer '${layer}'`);
    }
    tf.tidy(() => variable.assign(tf.tensor1d(values)));
  }

  /** Taps multiplying each injection layer's output by its scale along the channel axis. */
  taps(): Map<string, LayerTap> {
    const taps = new Map<string, LayerTap>();
    for (const [layer, scale] of this.variables) {
      taps.set(layer, (output) => tf.mul(output, scale));
    }
    return taps;
  }

  dispose(): void {
    for (const scale of this.variables.values()) {
      scale.dispose();
    }
    this.variables.clear();
  }
}
