import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelGraph } from '@ippro/graph';
import { keptChannelsPerLayer } from '../kept-channels';

interface KeptStatisticsArgs {
  name: string;
  epsilon: number;
  keptChannels: number[];
}

/**
 * LayerNormalization whose mean and variance are taken over the kept channels only: what a
 * LayerNormalization of the pruned model computes, written without slicing anything.
 */
class KeptStatisticsLayerNormalization extends tfl.layers.Layer {
  static readonly className = 'ippro-test>KeptStatisticsLayerNormalization';
  private readonly epsilon: number;
  private readonly keptChannels: number[];

  constructor(args: KeptStatisticsArgs) {
    super({ name: args.name });
    this.epsilon = args.epsilon;
    this.keptChannels = args.keptChannels;
  }

  override build(inputShape: (number | null)[]): void {
    const width = inputShape[inputShape.length - 1] as number;
    this.addWeight('gamma', [width], 'float32', tfl.initializers.ones());
    this.addWeight('beta', [width], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      const width = x.shape[x.rank - 1] as number;
      const mask = tf.tensor1d(Array.from({ length: width }, (_, c) => (this.keptChannels.includes(c) ? 1 : 0)));
      const count = this.keptChannels.length;
      const mean = tf.div(tf.sum(tf.mul(x, mask), -1, true), count);
      const centred = tf.mul(tf.sub(x, mean), mask);
      const variance = tf.div(tf.sum(tf.square(centred), -1, true), count);
      const [gamma, beta] = this.weights.map((weight) => weight.read());
      return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, this.epsilon))), gamma as tf.Tensor), beta as tf.Tensor);
    });
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, keptChannels: this.keptChannels };
  }
}
serialization.registerClass(KeptStatisticsLayerNormalization);

interface LayerEntry {
  className: string;
  config: serialization.ConfigDict;
}

/**
 * The model as it would compute with the `removed` groups' channels gone, without surgery:
 * `zeroed` (those groups already silenced by zeroGroups) with every LayerNormalization taking its
 * statistics over the kept channels. Removing a channel changes a LayerNormalization's mean and
 * variance, which zeroing it does not (a zero still counts), so this, not the zeroed model, is
 * what a pruned transformer must equal.
 */
export function keptStatisticsReference(zeroed: tfl.LayersModel, graph: ChannelGraph, removed: ReadonlySet<number>): tfl.LayersModel {
  const kept = keptChannelsPerLayer(graph, removed);
  const config = JSON.parse(JSON.stringify(zeroed.getConfig())) as serialization.ConfigDict;
  for (const entry of config['layers'] as unknown as LayerEntry[]) {
    if (entry.className !== 'LayerNormalization') continue;
    const name = String(entry.config['name']);
    if (entry.config['center'] !== true || entry.config['scale'] !== true) throw new Error(`the reference needs gamma and beta in '${name}'`);
    entry.className = KeptStatisticsLayerNormalization.className;
    entry.config = { name, epsilon: entry.config['epsilon'] as number, keptChannels: kept.get(name)?.outputs ?? [] };
  }
  const reference = tfl.LayersModel.fromConfig<tfl.LayersModel>(tfl.LayersModel, config);
  reference.setWeights(zeroed.getWeights());
  return reference;
}
