import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import type { ChannelGraph, GroupMember } from '@ippro/graph';

/** Per layer, the output channels to silence, and which kind of member each one is. */
type Silenced = Map<string, { kind: GroupMember['kind']; channels: number[] }>;

function collectMembers(graph: ChannelGraph, groups: ReadonlySet<number>): Silenced {
  const silenced: Silenced = new Map();
  for (const index of groups) {
    for (const member of graph.groups[index].members) {
      const entry = silenced.get(member.layer) ?? { kind: member.kind, channels: [] };
      entry.channels.push(member.channel);
      silenced.set(member.layer, entry);
    }
  }
  return silenced;
}

/** Multiplies `weight` by a mask that is 0 at `channels` of its last axis (after folding). */
function zeroLastAxis(variable: LayerVariable, channels: readonly number[], foldedWidth: number): void {
  const masked = tf.tidy(() => {
    const value = variable.read();
    const folded = tf.reshape(value, [-1, foldedWidth]);
    const mask = new Float32Array(foldedWidth).fill(1);
    for (const channel of channels) mask[channel] = 0;
    return tf.reshape(tf.mul(folded, tf.tensor1d(mask)), value.shape);
  });
  variable.write(masked);
  masked.dispose();
}

function weightName(variable: LayerVariable): string {
  return variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1);
}

/** Which weights carry a member's output channel on their (folded) last axis. */
const ZEROED_WEIGHTS: Readonly<Record<GroupMember['kind'], readonly string[]>> = {
  kernel: ['kernel', 'pointwise_kernel', 'bias'],
  // [kh, kw, in, m] folds to [kh*kw, in*m]: output channel c*m + k is column c*m + k.
  depthwise: ['depthwise_kernel', 'bias'],
  batchnorm: ['gamma', 'beta'],
};

/**
 * Makes the groups' channels exactly zero where they are injected: zero producer kernels and
 * biases (a zero filter with a zero bias outputs 0), depthwise slices, and batch-norm gamma and
 * beta (gamma = beta = 0 outputs 0 whatever the moving statistics). Changes `model` in place.
 */
export function zeroGroups(model: LayersModel, graph: ChannelGraph, groups: ReadonlySet<number>): void {
  for (const [layerName, { kind, channels }] of collectMembers(graph, groups)) {
    for (const variable of model.getLayer(layerName).weights) {
      if (!ZEROED_WEIGHTS[kind].includes(weightName(variable))) continue;
      const shape: number[] = variable.read().shape;
      const foldedWidth = weightName(variable) === 'depthwise_kernel' ? shape[2] * shape[3] : shape[shape.length - 1];
      zeroLastAxis(variable, channels, foldedWidth);
    }
  }
}
