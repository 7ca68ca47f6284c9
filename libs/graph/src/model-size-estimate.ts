import type * as tf from '@tensorflow/tfjs-core';
import { NON_NEGATIVE_INTEGER, POSITIVE_NUMBER, setting } from '@ippro/settings';

/** Parameters a model may have before it is built, unless raised: 2e9 (8 GB of float32). */
export const DEFAULT_MAX_MODEL_PARAMS = 2e9;
/** Bytes of float32 layer outputs one example may produce, unless raised: 4 GiB. */
export const DEFAULT_MAX_ACTIVATION_BYTES = 4 * 1024 ** 3;

/** `--max-model-params` and `--max-activation-bytes`: of every process that builds models from files or artifacts. */
export const MODEL_LIMIT_SETTINGS = {
  maxModelParams: setting({
    parse: POSITIVE_NUMBER,
    help: "largest model accepted, in parameters, estimated from its model.json before any tensor is allocated",
    default: '2e9',
  }),
  maxActivationBytes: setting({
    parse: NON_NEGATIVE_INTEGER,
    placeholder: 'BYTES',
    help: "largest model accepted by its layers' float32 outputs for one example, estimated from its model.json (0: no bound)",
    default: String(DEFAULT_MAX_ACTIVATION_BYTES),
  }),
};

export interface ModelLimits {
  maxParams: number;
  /** 0: no bound. */
  maxActivationBytes: number;
}

let processLimits: ModelLimits = { maxParams: DEFAULT_MAX_MODEL_PARAMS, maxActivationBytes: DEFAULT_MAX_ACTIVATION_BYTES };

/** The limits every model load of this process checks; a process sets them once from its flags. */
export function setModelLimits(limits: ModelLimits): void {
  processLimits = { ...limits };
}

/** The limits of resolved MODEL_LIMIT_SETTINGS values. */
export function modelLimitsOf(values: { maxModelParams: number; maxActivationBytes: number }): ModelLimits {
  return { maxParams: values.maxModelParams, maxActivationBytes: values.maxActivationBytes };
}

export function modelLimits(): ModelLimits {
  return { ...processLimits };
}

/** The layer holding most parameters, for the message of a refusal. */
export interface LayerEstimate {
  name: string;
  className: string;
  params: number;
}

export interface ModelSizeEstimate {
  /** At least this many parameters: layers the estimator knows count from their config, the others by their weights in the manifest. */
  params: number;
  /** At least this many bytes of float32 layer outputs per example (outputs of unknown size count 0). */
  activationBytes: number;
  largest?: LayerEstimate;
}

/** A model refused before it was built: too many parameters or too large activations. */
export class ModelTooLargeError extends Error {
  override readonly name = 'ModelTooLargeError';
}

/** A shape without its batch axis; NaN for a size that is unknown from the config. */
type Shape = number[];
type Config = Record<string, unknown>;

interface LayerEntry {
  name: string;
  className: string;
  config: Config;
  /** Names of the layers whose outputs it reads, in order (none: unknown); undefined in a Sequential model (the previous layer). */
  inputs?: string[];
}

function isRecord(value: unknown): value is Config {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function size(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : NaN;
}

/** A known size, or 1: parameters are counted as a lower bound, never above the truth. */
function atLeastOne(value: number): number {
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

function list(value: unknown, rank: number): number[] {
  if (typeof value === 'number') return Array.from({ length: rank }, () => size(value));
  if (Array.isArray(value)) return value.map(size);
  return Array.from({ length: rank }, () => NaN);
}

function product(values: readonly number[]): number {
  return values.reduce((acc, v) => acc * v, 1);
}

function batchlessInputShape(config: Config): Shape | undefined {
  const shape = config['batch_input_shape'] ?? config['batchInputShape'];
  if (Array.isArray(shape)) return shape.slice(1).map(size);
  const input = config['input_shape'] ?? config['inputShape'];
  return Array.isArray(input) ? input.map(size) : undefined;
}

function channelsFirst(config: Config): boolean {
  return config['data_format'] === 'channels_first';
}

/** Spatial sizes after a window of `kernel` sizes, `strides` and `dilation` with `padding` ('same' or 'valid'). */
function windowed(spatial: readonly number[], kernel: readonly number[], strides: readonly number[], dilation: readonly number[], padding: unknown): number[] {
  return spatial.map((extent, i) => {
    const stride = atLeastOne(strides[i] ?? 1);
    if (padding === 'same') return Math.ceil(extent / stride);
    const span = ((kernel[i] ?? 1) - 1) * atLeastOne(dilation[i] ?? 1) + 1;
    return Math.floor((extent - span) / stride) + 1;
  });
}

/** [spatial sizes, channels] of a channels-last (or channels_first) shape. */
function split(shape: Shape, config: Config): [number[], number] {
  return channelsFirst(config) ? [shape.slice(1), size(shape[0])] : [shape.slice(0, -1), size(shape[shape.length - 1])];
}

function join(spatial: readonly number[], channels: number, config: Config): Shape {
  return channelsFirst(config) ? [channels, ...spatial] : [...spatial, channels];
}

function bias(config: Config, units: number): number {
  return config['use_bias'] === false ? 0 : units;
}

interface LayerOutcome {
  params: number;
  /** Undefined: the output shape is unknown from the config. */
  output?: Shape;
}

function convolution(config: Config, input: Shape, className: string): LayerOutcome {
  const [spatial, inChannels] = split(input, config);
  const rank = spatial.length;
  const kernel = list(config['kernel_size'], rank);
  const strides = list(config['strides'] ?? 1, rank);
  const dilation = list(config['dilation_rate'] ?? 1, rank);
  const window = product(kernel.map(atLeastOne));
  const cin = atLeastOne(inChannels);
  if (className === 'DepthwiseConv2D') {
    const multiplier = atLeastOne(size(config['depth_multiplier'] ?? 1));
    return { params: window * cin * multiplier + bias(config, cin * multiplier), output: join(windowed(spatial, kernel, strides, dilation, config['padding']), inChannels * multiplier, config) };
  }
  const filters = atLeastOne(size(config['filters']));
  if (className === 'SeparableConv2D' || className === 'SeparableConv1D') {
    const multiplier = atLeastOne(size(config['depth_multiplier'] ?? 1));
    const params = window * cin * multiplier + cin * multiplier * filters + bias(config, filters);
    return { params, output: join(windowed(spatial, kernel, strides, dilation, config['padding']), filters, config) };
  }
  if (className === 'Conv2DTranspose' || className === 'Conv3DTranspose') {
    const grown = spatial.map((extent, i) => (config['padding'] === 'same' ? extent * atLeastOne(strides[i] ?? 1) : (extent - 1) * atLeastOne(strides[i] ?? 1) + atLeastOne(kernel[i] ?? 1)));
    return { params: window * cin * filters + bias(config, filters), output: join(grown, filters, config) };
  }
  return { params: window * cin * filters + bias(config, filters), output: join(windowed(spatial, kernel, strides, dilation, config['padding']), filters, config) };
}

function pooling(config: Config, input: Shape): LayerOutcome {
  const [spatial, channels] = split(input, config);
  const poolSize = list(config['pool_size'] ?? 2, spatial.length);
  const strides = config['strides'] === null || config['strides'] === undefined ? poolSize : list(config['strides'], spatial.length);
  return { params: 0, output: join(windowed(spatial, poolSize, strides, [], config['padding']), channels, config) };
}

const CONVOLUTIONS = new Set(['Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv1D', 'SeparableConv2D', 'Conv2DTranspose', 'Conv3DTranspose']);
const POOLINGS = new Set(['MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D']);
const GLOBAL_POOLINGS = new Set(['GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D']);
const MERGES = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']);
/** Output shape = input shape, no weights. */
const SHAPE_KEEPING = new Set([
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D',
  'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Masking', 'Rescaling', 'Identity',
]);

/** Parameters and output shape of one layer from its config and input shapes; unknown classes give neither. */
function layerOutcome(entry: LayerEntry, inputs: readonly (Shape | undefined)[]): LayerOutcome {
  const { className, config } = entry;
  const input = inputs[0];
  if (className === 'InputLayer') {
    const shape = batchlessInputShape(config);
    return shape === undefined ? { params: 0 } : { params: 0, output: shape };
  }
  if (className === 'Dense') {
    const units = atLeastOne(size(config['units']));
    const inWidth = input === undefined ? NaN : size(input[input.length - 1]);
    return { params: atLeastOne(inWidth) * units + bias(config, units), ...(input === undefined ? {} : { output: [...input.slice(0, -1), units] }) };
  }
  if (className === 'Embedding') {
    const [inputDim, outputDim] = [atLeastOne(size(config['input_dim'])), atLeastOne(size(config['output_dim']))];
    return { params: inputDim * outputDim, ...(input === undefined ? {} : { output: [...input, outputDim] }) };
  }
  if (input === undefined) {
    // A known layer after an unknown one still has its config: count what it certainly holds.
    if (CONVOLUTIONS.has(className)) return { params: convolution(config, [NaN, NaN, NaN], className).params };
    return { params: 0 };
  }
  if (CONVOLUTIONS.has(className)) return convolution(config, input, className);
  if (className === 'BatchNormalization' || className === 'LayerNormalization') {
    const channels = atLeastOne(size(input[input.length - 1]));
    const perChannel = (config['center'] === false ? 0 : 1) + (config['scale'] === false ? 0 : 1) + (className === 'BatchNormalization' ? 2 : 0);
    return { params: perChannel * channels, output: input };
  }
  if (SHAPE_KEEPING.has(className)) return { params: 0, output: input };
  if (POOLINGS.has(className)) return pooling(config, input);
  if (GLOBAL_POOLINGS.has(className)) return { params: 0, output: [split(input, config)[1]] };
  if (className === 'Flatten') return { params: 0, output: [product(input)] };
  if (className === 'Reshape') {
    const target = list(config['target_shape'], 0);
    const missing = product(input) / product(target.filter((extent) => extent >= 0));
    return { params: 0, output: target.map((extent) => (extent === -1 || Number.isNaN(extent) ? missing : extent)) };
  }
  if (className === 'ZeroPadding2D') {
    const padding = config['padding'];
    const pairs = Array.isArray(padding) ? padding.map((pair) => (Array.isArray(pair) ? pair.map(size) : [size(pair), size(pair)])) : [[size(padding), size(padding)], [size(padding), size(padding)]];
    const [spatial, channels] = split(input, config);
    return { params: 0, output: join(spatial.map((extent, i) => extent + (pairs[i]?.[0] ?? 0) + (pairs[i]?.[1] ?? 0)), channels, config) };
  }
  if (MERGES.has(className)) return { params: 0, output: input };
  if (className === 'Concatenate') {
    if (inputs.some((shape) => shape === undefined)) return { params: 0 };
    const last = inputs.reduce((sum, shape) => sum + size((shape as Shape)[(shape as Shape).length - 1]), 0);
    return { params: 0, output: [...input.slice(0, -1), last] };
  }
  return { params: 0 };
}

/** The model config of a topology: `{ class_name, config }`, or that under `model_config`. */
function modelConfig(topology: unknown): { className: string; config: Config } | undefined {
  const root = isRecord(topology) && isRecord(topology['model_config']) ? topology['model_config'] : topology;
  if (!isRecord(root) || typeof root['class_name'] !== 'string') return undefined;
  const config = root['config'];
  // A Sequential model's config is a list of layers, or { name, layers }.
  if (Array.isArray(config)) return { className: root['class_name'], config: { layers: config } };
  return isRecord(config) ? { className: root['class_name'], config } : undefined;
}

function inboundNames(layer: Config): string[] | undefined {
  const nodes = layer['inbound_nodes'];
  if (!Array.isArray(nodes) || nodes.length === 0) return undefined;
  const first: unknown = nodes[0];
  // Keras 2 form: [[name, node, tensor, kwargs], ...]; the newer form: { args: [...] } is not read.
  if (!Array.isArray(first)) return undefined;
  return first.flatMap((inbound) => (Array.isArray(inbound) && typeof inbound[0] === 'string' ? [inbound[0]] : []));
}

function layerEntries(topology: unknown): LayerEntry[] {
  const model = modelConfig(topology);
  const layers = model?.config['layers'];
  if (!Array.isArray(layers)) return [];
  const sequential = model?.className === 'Sequential';
  return layers.flatMap((layer, index): LayerEntry[] => {
    if (!isRecord(layer) || typeof layer['class_name'] !== 'string') return [];
    const config = isRecord(layer['config']) ? layer['config'] : {};
    const name = typeof layer['name'] === 'string' ? layer['name'] : typeof config['name'] === 'string' ? config['name'] : `layer ${index}`;
    // A functional layer whose inbound nodes are not in the form read here has unknown inputs.
    const inputs = sequential ? undefined : (inboundNames(layer) ?? []);
    return [{ name, className: layer['class_name'], config, ...(inputs === undefined ? {} : { inputs }) }];
  });
}

/** Parameters of the manifest's weights per layer (the part of a weight's name before its first '/'). */
function manifestParams(weightSpecs: readonly tf.io.WeightsManifestEntry[]): Map<string, number> {
  const byLayer = new Map<string, number>();
  for (const spec of weightSpecs) {
    const layer = spec.name.split('/')[0] ?? spec.name;
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + product(spec.shape.map(atLeastOne)));
  }
  return byLayer;
}

/**
 * Parameters and activation memory of a model from its model.json alone, before tfjs builds it
 * (building allocates every weight, so a Dense layer of 2^30 units would exhaust memory first).
 * Both are lower bounds: the common layer classes count from their configs and inferred input
 * shapes; any other layer counts the weights the manifest lists under its name, and outputs of
 * unknown size count nothing.
 */
export function estimateModelSize(topology: unknown, weightSpecs: readonly tf.io.WeightsManifestEntry[] = []): ModelSizeEstimate {
  const fromManifest = manifestParams(weightSpecs);
  const outputs = new Map<string, Shape | undefined>();
  let previous: Shape | undefined;
  let params = 0;
  let activationElements = 0;
  let largest: LayerEstimate | undefined;
  for (const entry of layerEntries(topology)) {
    const inputs = entry.inputs === undefined ? [previous ?? batchlessInputShape(entry.config)] : entry.inputs.map((name) => outputs.get(name));
    const outcome = layerOutcome(entry, inputs);
    const layerParams = Math.max(outcome.params, fromManifest.get(entry.name) ?? 0);
    params += layerParams;
    if (largest === undefined || layerParams > largest.params) largest = { name: entry.name, className: entry.className, params: layerParams };
    const elements = outcome.output === undefined ? NaN : product(outcome.output);
    if (Number.isFinite(elements) && elements > 0) activationElements += elements;
    outputs.set(entry.name, outcome.output);
    previous = outcome.output;
  }
  return { params, activationBytes: activationElements * 4, ...(largest === undefined ? {} : { largest }) };
}

function amount(value: number): string {
  return value >= 1e6 ? value.toExponential(2) : String(value);
}

/**
 * Refuses, with ModelTooLargeError, a model whose estimate exceeds `limits` (default: the
 * process's, see setModelLimits). `where` names the file or artifact in the message.
 */
export function checkModelSize(topology: unknown, weightSpecs: readonly tf.io.WeightsManifestEntry[], where: string, limits: ModelLimits = processLimits): ModelSizeEstimate {
  const estimate = estimateModelSize(topology, weightSpecs);
  const largest = estimate.largest === undefined ? '' : `; the largest layer is "${estimate.largest.name}" (${estimate.largest.className}, ${amount(estimate.largest.params)})`;
  if (estimate.params > limits.maxParams) {
    throw new ModelTooLargeError(`${where}: the model has at least ${amount(estimate.params)} parameters, above the limit of ${amount(limits.maxParams)}${largest} (--max-model-params raises the limit)`);
  }
  if (limits.maxActivationBytes > 0 && estimate.activationBytes > limits.maxActivationBytes) {
    throw new ModelTooLargeError(
      `${where}: the model's layer outputs take at least ${amount(estimate.activationBytes)} bytes per example, above the limit of ${amount(limits.maxActivationBytes)} (--max-activation-bytes raises the limit)`,
    );
  }
  return estimate;
}
