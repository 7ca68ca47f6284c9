import { HEADS_TAP_POINT } from '@ippro/layers';

/**
 * The channel dependency graph of a LayersModel: which output channels of which layers must
 * be removed together (groups), and how each layer relates its input channels to its output
 * channels. Everything downstream (scoring, planning, surgery) speaks in these terms.
 */

/** How a layer treats channels; decides how groups propagate through it. */
export type LayerRole =
  /** A model input: its channels can never be removed. */
  | 'input'
  /** Creates new channels from weights: Conv2D, Dense, SeparableConv2D (pointwise output). */
  | 'producer'
  /** DepthwiseConv2D: output channel c*m+k comes from input channel c (multiplier m). */
  | 'depthwise'
  /** BatchNormalization: per-channel parameters that follow the channel. */
  | 'normalization'
  /** Channels pass through unchanged: activations, pooling, padding, cropping, dropout. */
  | 'passthrough'
  /** Add, Subtract, Multiply, Average, Maximum, Minimum: ties channel c of every input. */
  | 'elementwise'
  /** Concatenate on the channel axis: input channel ranges at offsets. */
  | 'concatenate'
  /** Flatten: one channel becomes H*W features of the next Dense. */
  | 'flatten'
  /**
   * The heads of a MultiHeadAttention (a node of the graph, not a layer of the model, named
   * `<layer>/heads`): head h is a unit made by the query, key and value kernels' slices [:, h, :];
   * it consumes the channels of the attention's input.
   */
  | 'attention-heads'
  /** MultiHeadAttention's output: new channels made by its output projection from the heads. */
  | 'attention'
  /** LayerNormalization on the channel axis: gamma and beta follow the channel (its statistics mix them). */
  | 'layer-normalization'
  /** ippro>ClassToken, ippro>PositionEmbedding: learned per-channel token parameters that follow the channel. */
  | 'token'
  /** A layer the graph does not understand: none of its channels is ever removed. */
  | 'frozen';

/** One channel of one layer's output tensor. */
export interface ChannelRef {
  layer: string;
  channel: number;
}

/**
 * What a member of a group is: a unit's own weights (`kernel`, `depthwise`, `head`), or
 * per-channel parameters that go with the channel (`batchnorm`, `layernorm`, `token`).
 */
export type MemberKind = 'kernel' | 'depthwise' | 'head' | 'batchnorm' | 'layernorm' | 'token';

/**
 * What a group is, for choosing which groups a run may remove (docs/ippro.md section 1):
 * `head` an attention head, `mlp` a neuron of a transformer block's MLP, `embedding` a channel
 * of a transformer's residual stream, `channel` everything else (convolution filters, Dense
 * neurons of CNNs and MLPs).
 */
export type GroupKind = 'channel' | 'head' | 'mlp' | 'embedding';

export const GROUP_KINDS: readonly GroupKind[] = ['channel', 'head', 'mlp', 'embedding'];

/**
 * A member of a group: an output channel of a layer that owns weights for it (for a `head`,
 * head `channel` of the MultiHeadAttention `layer`). Units (`kernel`, `depthwise`, `head`)
 * contribute to F_g; the other kinds carry per-channel parameters removed with the group.
 */
export interface GroupMember {
  layer: string;
  channel: number;
  kind: MemberKind;
  /**
   * For units: the graph node whose output tensor is the unit's injection point (IPPRO.md §1;
   * docs/ippro.md section 2), e.g. the BatchNormalization directly after the producer, else the
   * producer; for a head, the heads node `<layer>/heads`.
   */
  injectionLayer?: string;
}

/** Whether members of this kind are units: they own producing weights, which make up F_g. */
export function isUnitKind(kind: MemberKind): boolean {
  return kind === 'kernel' || kind === 'depthwise' || kind === 'head';
}

export function isUnitMember(member: GroupMember): boolean {
  return isUnitKind(member.kind);
}

/** A set of channels that must be removed together. Groups are scored, ranked and removed. */
export interface ChannelGroup {
  /**
   * `${anchor}:${channel}`: the anchor is the topologically first elementwise layer the group
   * passes through, else its first unit's layer; the channel is the index at the anchor's output.
   */
  id: string;
  /** Position in `ChannelGraph.groups`. */
  index: number;
  kind: GroupKind;
  /**
   * Members unit by unit in the model's layer order, each unit (kernel/depthwise) followed by
   * the channel of its injection BatchNormalization; other batchnorm members at their own
   * layer's position; then channel order. For the fixture: dense2/0, bn2/0, dense3/0, bn3/0.
   */
  members: GroupMember[];
  /** Every layer output channel that belongs to the group. */
  channels: ChannelRef[];
  /** False when the group touches an input, the output layer or a frozen layer. */
  prunable: boolean;
  /** Why the group can never be removed, when it cannot. */
  frozenReason?: string;
}

/** The sizes a MultiHeadAttention's cost depends on (both of its nodes carry them). */
export interface AttentionGeometry {
  keyDim: number;
  valueDim: number;
  /** Query and key tokens (self-attention: equal). */
  queryTokens: number;
  keyTokens: number;
  useBias: boolean;
}

export interface LayerNode {
  /** The model layer's name; for a node inside a layer (`attention-heads`), `<layer>/heads`. */
  name: string;
  /** For a node inside a model layer: that layer's name. */
  ownerLayer?: string;
  /** The Keras class name, e.g. 'Conv2D'. */
  className: string;
  role: LayerRole;
  /** Names of the layers feeding this one, in argument order. */
  inputs: string[];
  /** Output shape without the batch dimension, e.g. [32, 32, 16]. */
  outputShape: number[];
  /** Size of the last (channel) axis of the output. */
  outputChannels: number;
  /** For each output channel, the index of its group in `ChannelGraph.groups`. */
  channelGroups: number[];
  /**
   * For a Flatten: the number of spatial positions folded into each channel (H*W). The output
   * has spatialSize * outputChannels features; feature f = (h*W+w)*C + c belongs to channel
   * f % outputChannels. Per-element layers after a Flatten (Dropout, activations) keep it.
   */
  spatialSize?: number;
  /** Why the layer's channels can never be removed (role 'frozen', or e.g. a hidden softmax). */
  frozenReason?: string;
  /** Kernel height and width: Conv2D, DepthwiseConv2D, SeparableConv2D. */
  kernelSize?: [number, number];
  /** Strides (height, width): Conv2D, DepthwiseConv2D, SeparableConv2D. */
  strides?: [number, number];
  /** Whether the layer has a bias: Conv2D, Dense, DepthwiseConv2D, SeparableConv2D. */
  useBias?: boolean;
  /** Channel multiplier m: DepthwiseConv2D and SeparableConv2D. */
  depthMultiplier?: number;
  /** BatchNormalization: weight tensors per channel (gamma, beta, moving mean, moving variance). */
  paramsPerChannel?: number;
  /** Frozen layers: their parameter count, which never changes. */
  fixedParams?: number;
  /** Both nodes of a MultiHeadAttention. */
  attention?: AttentionGeometry;
  /** Embedding: rows of the embedding table (the vocabulary size). */
  embeddingRows?: number;
}

/** Whether a node's output is a sequence of tokens: [tokens, channels] per example, not behind a Flatten. */
export function isTokenSequence(node: LayerNode): boolean {
  return node.outputShape.length === 2 && node.spatialSize === undefined;
}

/** The graph node of a MultiHeadAttention's heads. */
export function headsNodeName(layer: string): string {
  return `${layer}/${HEADS_TAP_POINT}`;
}

/** The graph node whose output channel a unit member is (the heads node for a head). */
export function unitNodeName(member: GroupMember): string {
  return member.kind === 'head' ? headsNodeName(member.layer) : member.layer;
}

export interface ChannelGraph {
  modelName: string;
  /** In topological order (the order the model computes them). */
  layers: LayerNode[];
  groups: ChannelGroup[];
  /** Names of the model's output layers; their channels are never removed. */
  outputLayers: string[];
}
