import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Shape } from '@tensorflow/tfjs-layers/dist/keras_format/common';
import { resolveInitializer, serializeObject, type ObjectIdentifier } from './serialized-objects';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
}

function singleShape(inputShape: Shape | Shape[]): Shape {
  return Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : (inputShape as Shape);
}

/** The known sizes of a shape without its batch axis, or an error naming the layer. */
function knownSizes(shape: Shape, layer: tfl.layers.Layer, minimumRank: number): number[] {
  if (shape.length < minimumRank) {
    throw new Error(`${layer.getClassName()} '${layer.name}' needs inputs of rank >= ${minimumRank} ([batch, tokens, features]), got rank ${shape.length}`);
  }
  const sizes = shape.slice(1);
  if (sizes.some((size) => size === null)) {
    throw new Error(`${layer.getClassName()} '${layer.name}' needs a known input size, got [${shape.join(', ')}]`);
  }
  return sizes as number[];
}

/**
 * A layer with one learned weight shaped from its input (without the batch axis), drawn by the
 * initializer of config field `initializerField`.
 */
abstract class LearnedTokenLayer extends tfl.layers.Layer {
  protected readonly initializer: Initializer;
  protected parameter: tfl.LayerVariable | undefined;

  constructor(
    args: LayerArgs,
    initializer: ObjectIdentifier<Initializer>,
    private readonly initializerField: string,
    private readonly weightName: string,
  ) {
    super(args);
    this.initializer = resolveInitializer(initializer, 'Zeros', this.name, initializerField);
  }

  /** The weight's shape for an input of these sizes (batch axis left out). */
  protected abstract weightShape(sizes: number[]): number[];

  override build(inputShape: Shape | Shape[]): void {
    this.parameter = this.addWeight(this.weightName, this.weightShape(knownSizes(singleShape(inputShape), this, 3)), 'float32', this.initializer);
    this.built = true;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), [this.initializerField]: serializeObject(this.initializer) } as serialization.ConfigDict;
  }
}

export interface ClassTokenArgs extends LayerArgs {
  /** Default zeros (as in ViT). */
  tokenInitializer?: ObjectIdentifier<Initializer>;
}

/**
 * Prepends one learned token to a sequence: [batch, tokens, d] -> [batch, tokens + 1, d], the
 * new token 0 being the weight `token` [d] (ViT's class token). Keras has no such layer: in Keras
 * it is `ippro>ClassToken` of ippro's Python module (libs/layers/python/ippro_layers.py).
 */
export class ClassToken extends LearnedTokenLayer {
  static readonly className = 'ippro>ClassToken';

  constructor(args: ClassTokenArgs = {}) {
    super(args, args.tokenInitializer, 'tokenInitializer', 'token');
  }

  protected override weightShape(sizes: number[]): number[] {
    return [sizes[sizes.length - 1] as number];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    const tokens = shape[1];
    return [shape[0] ?? null, tokens === null || tokens === undefined ? null : tokens + 1, ...shape.slice(2)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      const width = x.shape[x.rank - 1] as number;
      const token = tf.reshape((this.parameter as tfl.LayerVariable).read(), [1, 1, width]);
      return tf.concat([tf.tile(token, [x.shape[0] as number, 1, 1]), x], 1);
    });
  }
}

export interface PositionEmbeddingArgs extends LayerArgs {
  /** Default RandomNormal(stddev 0.02). */
  embeddingsInitializer?: ObjectIdentifier<Initializer>;
}

/**
 * Adds a learned embedding of every position: x + embeddings, the weight `embeddings` having
 * the input's shape without the batch axis ([tokens, d] for a sequence). Keras has no layer
 * that adds one (keras_hub's PositionEmbedding returns it instead): in Keras it is
 * `ippro>PositionEmbedding` of ippro's Python module.
 */
export class PositionEmbedding extends LearnedTokenLayer {
  static readonly className = 'ippro>PositionEmbedding';

  constructor(args: PositionEmbeddingArgs = {}) {
    super(args, args.embeddingsInitializer ?? { className: 'RandomNormal', config: { mean: 0, stddev: 0.02, seed: null } }, 'embeddingsInitializer', 'embeddings');
  }

  protected override weightShape(sizes: number[]): number[] {
    return sizes;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.add(singleInput(inputs), (this.parameter as tfl.LayerVariable).read()));
  }
}

/**
 * Takes token 0 out of a sequence: [batch, tokens, d] -> [batch, d] (the class token a ViT
 * classifies from). Keras has no such layer: in Keras it is `ippro>TakeClassToken` of ippro's
 * Python module.
 */
export class TakeClassToken extends tfl.layers.Layer {
  static readonly className = 'ippro>TakeClassToken';

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    if (shape.length !== 3) {
      throw new Error(`TakeClassToken '${this.name}' needs [batch, tokens, features] inputs, got rank ${shape.length}`);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [shape[0] ?? null, shape[shape.length - 1] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      return tf.reshape(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [x.shape[0] as number, x.shape[2] as number]);
    });
  }
}
