import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Shape } from '@tensorflow/tfjs-layers/dist/keras_format/common';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';
import { HEADS_TAP_POINT, INTERNAL_TAPS_ARG, type InternalTaps } from './internal-taps';
import { resolveInitializer, resolveOptional, serializeObject, type ObjectIdentifier } from './serialized-objects';
import { normalizeAttentionAxes, TokenLayout } from './token-layout';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;
type Regularizer = ReturnType<typeof tfl.regularizers.l2>;
type Constraint = ReturnType<typeof tfl.constraints.maxNorm>;
type LayerVariable = tfl.LayerVariable;

/** Keras's MultiHeadAttention arguments (camelCase, as tfjs reads a converted Keras config). */
export interface MultiHeadAttentionArgs extends LayerArgs {
  numHeads: number;
  /** Size of each head's query and key. */
  keyDim: number;
  /** Size of each head's value; default keyDim. */
  valueDim?: number | null;
  /** Dropout on the attention probabilities (training only). Default 0. */
  dropout?: number;
  /** Default true. */
  useBias?: boolean;
  /** Width of the output; default the query's width. One axis only. */
  outputShape?: number | number[] | null;
  /** Axes attended over; default every axis between batch and features (axis 1 for [batch, tokens, features]). */
  attentionAxes?: number | number[] | null;
  kernelInitializer?: ObjectIdentifier<Initializer>;
  biasInitializer?: ObjectIdentifier<Initializer>;
  kernelRegularizer?: ObjectIdentifier<Regularizer>;
  biasRegularizer?: ObjectIdentifier<Regularizer>;
  activityRegularizer?: ObjectIdentifier<Regularizer>;
  kernelConstraint?: ObjectIdentifier<Constraint>;
  biasConstraint?: ObjectIdentifier<Constraint>;
  /** Keras 3's seed of the attention dropout; kept in the config, not used (see call). */
  seed?: number | null;
}

/** The weights, in the order (and with the names) Keras 3 creates and saves them. */
export const ATTENTION_WEIGHTS = [
  'query/kernel',
  'query/bias',
  'key/kernel',
  'key/bias',
  'value/kernel',
  'value/bias',
  'attention_output/kernel',
  'attention_output/bias',
] as const;
export type AttentionWeightName = (typeof ATTENTION_WEIGHTS)[number];

/** Call arguments Keras has that this layer does not implement; given non-null, they are refused by name. */
const UNSUPPORTED_CALL_ARGS = ['attentionMask', 'queryMask', 'valueMask', 'keyMask', 'returnAttentionScores'] as const;

/** Keras's masked softmax adds this to the scores of masked positions. */
const MASKED_SCORE = -1e9;

function positiveInteger(value: unknown, field: string, layerName: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`MultiHeadAttention '${layerName}': ${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function outputWidthArg(value: MultiHeadAttentionArgs['outputShape'], layerName: string): number | null {
  if (value === null || value === undefined) return null;
  const axes = Array.isArray(value) ? value : [value];
  if (axes.length !== 1) {
    throw new Error(`MultiHeadAttention '${layerName}': outputShape [${axes.join(', ')}] has several axes; only a single output width is supported`);
  }
  return positiveInteger(axes[0], 'outputShape', layerName);
}

/** A Keras 2 call reference to a tensor, `[layerName, nodeIndex, tensorIndex]`, as converted configs carry it. */
function isTensorReference(value: unknown): value is [string, number, number] {
  return Array.isArray(value) && value.length >= 3 && typeof value[0] === 'string' && Number.isInteger(value[1]) && Number.isInteger(value[2]);
}

type AnyTensor = tf.Tensor | tfl.SymbolicTensor;

function isTensor(value: unknown): value is AnyTensor {
  return value instanceof tf.Tensor || value instanceof tfl.SymbolicTensor;
}

/** tfjs's loader camel-cases every string of a converted config's call arguments, layer names included. */
function asLoaderSpellsIt(name: string): string {
  return name.includes('_') ? name.replace(/_+(\w|$)/g, (_, next: string) => next.toUpperCase()) : name;
}

function sameSource(reference: [string, number, number], tensor: AnyTensor): boolean {
  if (!(tensor instanceof tfl.SymbolicTensor) || tensor.sourceLayer === undefined) return false;
  const name = tensor.sourceLayer.name;
  const sameLayer = reference[0] === name || reference[0] === asLoaderSpellsIt(name);
  return sameLayer && tensor.nodeIndex === reference[1] && (tensor.tensorIndex ?? 0) === reference[2];
}

/**
 * Keras's MultiHeadAttention (keras.layers.MultiHeadAttention) with its class name, config keys
 * and weights: query/key/value kernels [features, numHeads, keyDim] (value: valueDim) with biases
 * [numHeads, keyDim], the output kernel [numHeads, valueDim, outputWidth] with bias [outputWidth],
 * named `<layer>/query/kernel` .. `<layer>/attention_output/bias` in Keras 3's order.
 *
 * Inputs: one tensor (self-attention: query = value = key), or [query, value] or
 * [query, value, key] (key defaults to value). A list whose entries are all one tensor is
 * self-attention and is recorded as that one input. A Keras 2 config's `value`/`key` call
 * arguments are accepted when they name the query's own tensor. Supported: any rank >= 3 with
 * any attention axes, dropout on the probabilities, Keras's `use_causal_mask` (rank 3).
 * Refused by name: attention masks (explicit or from an Embedding's mask), returning the scores,
 * multi-axis output shapes, activity regularizers.
 *
 * The scores are softmax(q k^T / sqrt(keyDim)) over the attention axes, as Keras computes them.
 * A scoring pass can scale each head's attention output before the output projection through the
 * `heads` internal tap (INTERNAL_TAPS_ARG).
 */
export class MultiHeadAttention extends tfl.layers.Layer {
  static readonly className = 'MultiHeadAttention';

  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropoutRate: number;
  readonly useBias: boolean;
  /** The configured output width, or null for the query's width. */
  readonly outputWidth: number | null;
  /** As configured (null: Keras's default); normalized per input rank at build. */
  readonly attentionAxesArg: number[] | null;
  readonly seed: number | null;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly kernelRegularizer: Regularizer | undefined;
  private readonly biasRegularizer: Regularizer | undefined;
  private readonly kernelConstraint: Constraint | undefined;
  private readonly biasConstraint: Constraint | undefined;
  private readonly variables = new Map<AttentionWeightName, LayerVariable>();
  private layout: TokenLayout | undefined;
  /** Keras's `use_causal_mask` as recorded from the symbolic call (tfjs does not replay call arguments). */
  private causal: boolean | undefined;

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    const name = this.name;
    this.numHeads = positiveInteger(args.numHeads, 'numHeads', name);
    this.keyDim = positiveInteger(args.keyDim, 'keyDim', name);
    this.valueDim = args.valueDim === null || args.valueDim === undefined ? this.keyDim : positiveInteger(args.valueDim, 'valueDim', name);
    this.dropoutRate = args.dropout ?? 0;
    if (!(this.dropoutRate >= 0 && this.dropoutRate < 1)) {
      throw new Error(`MultiHeadAttention '${name}': dropout must be in [0, 1), got ${this.dropoutRate}`);
    }
    this.useBias = args.useBias ?? true;
    this.outputWidth = outputWidthArg(args.outputShape, name);
    const axes = args.attentionAxes;
    this.attentionAxesArg = axes === null || axes === undefined ? null : Array.isArray(axes) ? [...axes] : [axes];
    this.seed = args.seed ?? null;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, 'GlorotUniform', name, 'kernelInitializer');
    this.biasInitializer = resolveInitializer(args.biasInitializer, 'Zeros', name, 'biasInitializer');
    this.kernelRegularizer = resolveOptional(args.kernelRegularizer, name, 'kernelRegularizer');
    this.biasRegularizer = resolveOptional(args.biasRegularizer, name, 'biasRegularizer');
    if (args.activityRegularizer !== null && args.activityRegularizer !== undefined) {
      throw new Error(`MultiHeadAttention '${name}': activity regularizers are not supported (tfjs cannot run them)`);
    }
    this.kernelConstraint = resolveOptional(args.kernelConstraint, name, 'kernelConstraint');
    this.biasConstraint = resolveOptional(args.biasConstraint, name, 'biasConstraint');
  }

  /**
   * Puts the inputs in canonical form before tfjs records the call: one tensor for
   * self-attention, else [query, value(, key)]; masks and score outputs are refused here.
   */
  override apply(inputs: AnyTensor | AnyTensor[], kwargs: Kwargs = {}): tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[] {
    const { value, key, ...rest } = kwargs;
    for (const arg of UNSUPPORTED_CALL_ARGS) {
      if (rest[arg] !== null && rest[arg] !== undefined && rest[arg] !== false) {
        throw new Error(`MultiHeadAttention '${this.name}': the call argument '${arg}' is not supported`);
      }
      delete rest[arg];
    }
    const list = Array.isArray(inputs) ? [...inputs] : [inputs];
    const query = list[0];
    if (query === undefined || list.length > 3) {
      throw new Error(`MultiHeadAttention '${this.name}': expects [query], [query, value] or [query, value, key], got ${list.length} inputs`);
    }
    if (value !== undefined && value !== null) list[1] = this.callArgument(value, query, 'value');
    if (key !== undefined && key !== null) list[2] = this.callArgument(key, query, 'key');
    if (list[2] !== undefined && list[1] === undefined) list[1] = query;
    if (query instanceof tfl.SymbolicTensor && rest['useCausalMask'] !== undefined) this.recordCausal(rest['useCausalMask']);
    const selfAttention = list.every((tensor) => tensor === query);
    return super.apply(selfAttention ? query : (list as tf.Tensor[] | tfl.SymbolicTensor[]), rest);
  }

  private callArgument(value: unknown, query: AnyTensor, field: string): AnyTensor {
    if (isTensor(value)) return value;
    if (isTensorReference(value) && sameSource(value, query)) return query;
    throw new Error(
      `MultiHeadAttention '${this.name}': the '${field}' call argument ${JSON.stringify(value)} cannot be resolved; give the inputs as a list [query, value, key]`,
    );
  }

  private recordCausal(flag: unknown): void {
    if (typeof flag !== 'boolean') throw new Error(`MultiHeadAttention '${this.name}': useCausalMask must be a boolean, got ${JSON.stringify(flag)}`);
    if (this.causal !== undefined && this.causal !== flag) {
      throw new Error(`MultiHeadAttention '${this.name}' is called both with and without a causal mask`);
    }
    this.causal = flag;
  }

  /** Whether the layer's recorded call uses Keras's causal mask. */
  get usesCausalMask(): boolean {
    return this.causal ?? false;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [queryShape, valueShape, keyShape] = this.inputShapes(inputShape);
    const rank = queryShape.length;
    if (rank < 3) throw new Error(`MultiHeadAttention '${this.name}': inputs need rank >= 3 ([batch, tokens, features]), got rank ${rank}`);
    for (const [what, shape] of [['value', valueShape], ['key', keyShape]] as const) {
      if (shape.length !== rank) throw new Error(`MultiHeadAttention '${this.name}': the ${what} has rank ${shape.length}, the query ${rank}`);
    }
    this.layout = new TokenLayout(rank, normalizeAttentionAxes(this.attentionAxesArg, rank, this.name));
    const width = (shape: Shape, what: string): number => positiveInteger(shape[shape.length - 1], `the ${what}'s feature size`, this.name);
    const queryWidth = width(queryShape, 'query');
    const heads = this.numHeads;
    this.addProjection('query', [queryWidth, heads, this.keyDim], [heads, this.keyDim], 0);
    this.addProjection('key', [width(keyShape, 'key'), heads, this.keyDim], [heads, this.keyDim], 1);
    this.addProjection('value', [width(valueShape, 'value'), heads, this.valueDim], [heads, this.valueDim], 2);
    const outputWidth = this.outputWidth ?? queryWidth;
    this.addProjection('attention_output', [heads, this.valueDim, outputWidth], [outputWidth], 3);
    this.built = true;
  }

  private inputShapes(inputShape: Shape | Shape[]): [Shape, Shape, Shape] {
    const shapes = Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
    const query = shapes[0];
    const value = shapes[1] ?? query;
    return [query, value, shapes[2] ?? value];
  }

  /**
   * A seeded kernel initializer draws the same values on every call, which would make the four
   * kernels equal: the n-th kernel uses seed + n.
   */
  private kernelInitializerFor(index: number): Initializer {
    const config = this.kernelInitializer.getConfig();
    const seed = config['seed'];
    if (typeof seed !== 'number' || index === 0) return this.kernelInitializer;
    const reseeded = { className: this.kernelInitializer.getClassName(), config: { ...config, seed: seed + index } };
    return resolveInitializer(reseeded, 'GlorotUniform', this.name, 'kernelInitializer');
  }

  private addProjection(prefix: 'query' | 'key' | 'value' | 'attention_output', kernelShape: number[], biasShape: number[], index: number): void {
    const kernelName = `${prefix}/kernel` as AttentionWeightName;
    const biasName = `${prefix}/bias` as AttentionWeightName;
    const kernelInit = this.kernelInitializerFor(index);
    this.variables.set(kernelName, this.addWeight(kernelName, kernelShape, 'float32', kernelInit, this.kernelRegularizer, true, this.kernelConstraint));
    if (this.useBias) {
      this.variables.set(biasName, this.addWeight(biasName, biasShape, 'float32', this.biasInitializer, this.biasRegularizer, true, this.biasConstraint));
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [queryShape] = this.inputShapes(inputShape);
    return [...queryShape.slice(0, -1), this.outputWidth ?? queryShape[queryShape.length - 1]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const query = list[0] as tf.Tensor;
      const value = list[1] ?? query;
      const key = list[2] ?? value;
      if (kwargs['mask'] !== null && kwargs['mask'] !== undefined && (!Array.isArray(kwargs['mask']) || kwargs['mask'].some((mask) => mask != null))) {
        throw new Error(`MultiHeadAttention '${this.name}': input masks are not supported`);
      }
      const layout = this.layout as TokenLayout;
      const causal = (kwargs['useCausalMask'] as boolean | undefined) ?? this.causal ?? false;
      if (causal && query.rank !== 3) {
        throw new Error(`MultiHeadAttention '${this.name}': a causal mask needs [batch, tokens, features] inputs`);
      }
      const taps = kwargs[INTERNAL_TAPS_ARG] as InternalTaps | undefined;
      const attended = this.attend(
        layout.toSequences(query),
        layout.toSequences(key),
        layout.toSequences(value),
        { training: kwargs['training'] === true, causal, headsTap: taps?.[HEADS_TAP_POINT] },
      );
      return layout.fromSequences(attended, query.shape);
    });
  }

  private weight(name: AttentionWeightName): tf.Tensor | undefined {
    return this.variables.get(name)?.read();
  }

  /** [batch, tokens, features] -> [batch, heads, tokens, size] through one projection. */
  private project(x: tf.Tensor3D, prefix: 'query' | 'key' | 'value', size: number): tf.Tensor4D {
    const [batch, tokens, features] = x.shape;
    const kernel = tf.reshape(this.weight(`${prefix}/kernel`) as tf.Tensor, [features, this.numHeads * size]);
    let projected = tf.matMul(tf.reshape(x, [batch * tokens, features]), kernel);
    const bias = this.weight(`${prefix}/bias`);
    if (bias !== undefined) projected = tf.add(projected, tf.reshape(bias, [this.numHeads * size]));
    return tf.transpose(tf.reshape(projected, [batch, tokens, this.numHeads, size]), [0, 2, 1, 3]);
  }

  private attend(
    query: tf.Tensor3D,
    key: tf.Tensor3D,
    value: tf.Tensor3D,
    options: { training: boolean; causal: boolean; headsTap: ((t: tf.Tensor) => tf.Tensor) | undefined },
  ): tf.Tensor3D {
    const [batch, tokens] = query.shape;
    const q = tf.mul(this.project(query, 'query', this.keyDim), tf.scalar(1 / Math.sqrt(this.keyDim)));
    const k = this.project(key, 'key', this.keyDim);
    const v = this.project(value, 'value', this.valueDim);
    let scores: tf.Tensor = tf.matMul(q, k, false, true);
    if (options.causal) scores = tf.add(scores, causalAdder(tokens, key.shape[1]));
    let probabilities = tf.softmax(scores);
    if (options.training && this.dropoutRate > 0) {
      // Unseeded: a fixed seed would drop the same probabilities at every step.
      probabilities = tf.dropout(probabilities, this.dropoutRate);
    }
    // [batch, heads, tokens, valueDim] -> [batch, tokens, heads, valueDim]
    let heads: tf.Tensor = tf.transpose(tf.matMul(probabilities, v), [0, 2, 1, 3]);
    if (options.headsTap !== undefined) heads = this.tapHeads(heads, options.headsTap);
    const outputKernel = this.weight('attention_output/kernel') as tf.Tensor;
    const outputWidth = outputKernel.shape[2] as number;
    let output = tf.matMul(
      tf.reshape(heads, [batch * tokens, this.numHeads * this.valueDim]),
      tf.reshape(outputKernel, [this.numHeads * this.valueDim, outputWidth]),
    );
    const bias = this.weight('attention_output/bias');
    if (bias !== undefined) output = tf.add(output, bias);
    return tf.reshape(output, [batch, tokens, outputWidth]);
  }

  /** The tap sees heads on the last axis: [batch, tokens, valueDim, heads]. */
  private tapHeads(heads: tf.Tensor, tap: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
    const headsLast = tf.transpose(heads, [0, 1, 3, 2]);
    const tapped = tap(headsLast);
    if (!tf.util.arraysEqual(tapped.shape, headsLast.shape)) {
      throw new Error(`the heads tap of MultiHeadAttention '${this.name}' changed its shape from [${headsLast.shape}] to [${tapped.shape}]`);
    }
    return tf.transpose(tapped, [0, 1, 3, 2]);
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropoutRate,
      useBias: this.useBias,
      outputShape: this.outputWidth,
      attentionAxes: this.attentionAxesArg,
      kernelInitializer: serializeObject(this.kernelInitializer),
      biasInitializer: serializeObject(this.biasInitializer),
      kernelRegularizer: serializeObject(this.kernelRegularizer),
      biasRegularizer: serializeObject(this.biasRegularizer),
      activityRegularizer: null,
      kernelConstraint: serializeObject(this.kernelConstraint),
      biasConstraint: serializeObject(this.biasConstraint),
      seed: this.seed,
    } as serialization.ConfigDict;
  }
}

/** 0 where key j may be attended from query i (j <= i), a large negative number elsewhere. */
function causalAdder(queryTokens: number, keyTokens: number): tf.Tensor2D {
  const rows = tf.reshape(tf.range(0, queryTokens, 1, 'int32'), [queryTokens, 1]);
  const columns = tf.reshape(tf.range(0, keyTokens, 1, 'int32'), [1, keyTokens]);
  return tf.mul(tf.cast(tf.greater(columns, rows), 'float32'), tf.scalar(MASKED_SCORE)) as tf.Tensor2D;
}
