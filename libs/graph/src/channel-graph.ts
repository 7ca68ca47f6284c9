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
  /** A layer the graph does not understand: none of its channels is ever removed. */
  | 'frozen';

/** One channel of one layer's output tensor. */
export interface ChannelRef {
  layer: string;
  channel: number;
}

/** What a member of a group is: the unit's own weights, or per-channel parameters. */
export type MemberKind = 'kernel' | 'depthwise' | 'batchnorm';

/**
 * A member of a group: an output channel of a layer that owns weights for it.
 * `kernel` and `depthwise` members are units (they contribute to F_g); `batchnorm` members
 * carry gamma/beta/moving statistics that are removed with the group.
 */
export interface GroupMember {
  layer: string;
  channel: number;
  kind: MemberKind;
  /**
   * For units: the layer whose output tensor is the unit's injection point (IPPRO.md §1):
   * the BatchNormalization directly after the producer when there is one, else the producer.
   */
  injectionLayer?: string;
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

export interface LayerNode {
  name: string;
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
}

export interface ChannelGraph {
  modelName: string;
  /** In topological order (the order the model computes them). */
  layers: LayerNode[];
  groups: ChannelGroup[];
  /** Names of the model's output layers; their channels are never removed. */
  outputLayers: string[];
}
