import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import type { ChannelGraph, GroupMember } from '@ippro/graph';

/** Per layer and member kind, the output channels (or heads) to silence. */
type Silenced = Map<string, { layer: string; kind: GroupMember['kind']; channels: number[] }>;

function collectMembers(graph: ChannelGraph, groups: ReadonlySet<number>): Silenced {
  const silenced: Silenced = new Map();
  for (const index of groups) {
    for (const member of graph.groups[index].members) {
      // An attention layer has two kinds of members: its heads and its output projection's columns.
      const key = `${member.layer}\u0000${member.kind}`;
      const entry = silenced.get(key) ?? { layer: member.layer, kind: member.kind, channels: [] };
      entry.channels.push(member.channel);
      silenced.set(key, entry);
    }
  }
  return silenced;
}

/**
 * Multiplies `weight` by a mask that is 0 at `channels` of its last axis, after folding it to
 * [rows, units * unitSize]: unit u is columns u*unitSize .. u*unitSize + unitSize - 1.
 */
function zeroUnits(variable: LayerVariable, channels: readonly number[], units: number, unitSize: number): void {
  const masked = tf.tidy(() => {
    const value = variable.read();
    const folded = tf.reshape(value, [-1, units * unitSize]);
    const mask = new Float32Array(units * unitSize).fill(1);
    for (const channel of channels) mask.fill(0, channel * unitSize, (channel + 1) * unitSize);
    return tf.reshape(tf.mul(folded, tf.tensor1d(mask)), value.shape);
  });
  variable.write(masked);
  masked.dispose();
}

/** The weight's name inside its layer: 'kernel', 'query/kernel'. */
function weightName(layerName: string, variable: LayerVariable): string {
  return variable.originalName.slice(layerName.length + 1);
}

/** Which weights carry a member's output channel (a head: its query, key and value slices). */
const ZEROED_WEIGHTS: Readonly<Record<GroupMember['kind'], readonly string[]>> = {
  kernel: ['kernel', 'pointwise_kernel', 'bias', 'embeddings', 'attention_output/kernel', 'attention_output/bias'],
  // [kh, kw, in, m] folds to [kh*kw, in*m]: output channel c*m + k is column c*m + k.
  depthwise: ['depthwise_kernel', 'bias'],
  // [in, heads, size] and [heads, size] fold to [rows, heads * size].
  head: ['query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias'],
  batchnorm: ['gamma', 'beta'],
  layernorm: ['gamma', 'beta'],
  token: ['token', 'embeddings'],
};

/** [units, unitSize] of a weight's last axes for the member kind. */
function unitsOf(kind: GroupMember['kind'], name: string, shape: readonly number[]): [number, number] {
  if (name === 'depthwise_kernel') return [shape[2] * shape[3], 1];
  if (kind === 'head') return [shape[shape.length - 2], shape[shape.length - 1]];
  return [shape[shape.length - 1], 1];
}

/**
 * Makes the groups' channels exactly zero where they are injected: zero producer kernels and
 * biases (a zero filter with a zero bias outputs 0), depthwise slices, a head's query, key and
 * value slices (its values are then 0, so is its attention output), batch-norm gamma and beta
 * (gamma = beta = 0 outputs 0 whatever the moving statistics), LayerNormalization's gamma and
 * beta, and token parameters. Changes `model` in place.
 */
export function zeroGroups(model: LayersModel, graph: ChannelGraph, groups: ReadonlySet<number>): void {
  for (const { layer, kind, channels } of collectMembers(graph, groups).values()) {
    for (const variable of model.getLayer(layer).weights) {
      const name = weightName(layer, variable);
      if (!ZEROED_WEIGHTS[kind].includes(name)) continue;
      const [units, unitSize] = unitsOf(kind, name, variable.read().shape);
      zeroUnits(variable, channels, units, unitSize);
    }
  }
}
