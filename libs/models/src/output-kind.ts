import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';

/**
 * What a classifier's single output holds, and so which loss and which accuracy it gets
 * (src/loss.ts):
 * - 'probabilities': a softmax over the classes;
 * - 'logits': unnormalised class scores (a linear last layer, Keras' `from_logits=True`);
 * - 'sigmoid': one independent probability per unit: binary (one unit, labels 0/1) or
 *   multi-label (k units, multi-hot labels).
 */
export type ClassifierOutput = 'probabilities' | 'logits' | 'sigmoid';

export const CLASSIFIER_OUTPUTS: readonly ClassifierOutput[] = ['probabilities', 'logits', 'sigmoid'];

/** How a caller states the kind: one of them, or 'auto' (read from the model's output layer). */
export type OutputSetting = 'auto' | ClassifierOutput;

export const OUTPUT_SETTINGS: readonly OutputSetting[] = ['auto', ...CLASSIFIER_OUTPUTS];

/** A model whose output ippro cannot score (or that contradicts the stated kind); the message names the output layer. */
export class OutputKindError extends Error {
  override readonly name = 'OutputKindError';
}

/**
 * A classifier's output as the loss reads it. For a sigmoid that the model computes in its last
 * layer (Dense with activation sigmoid, or an Activation('sigmoid') layer), the loss reads the
 * pre-activation z instead of sigmoid(z), so binary cross-entropy is computed stably: `body` is the
 * model up to that layer's input, and `finish` turns the body's output into z.
 */
export interface ClassifierHead {
  readonly output: ClassifierOutput;
  /** The layer whose activation decided the kind (or the output layer, when stated). */
  readonly outputLayer: string;
  /** Output units: classes, or labels for a sigmoid. */
  readonly units: number;
  /** True when `forward` gives the sigmoid's pre-activation rather than the model's output. */
  readonly preActivation: boolean;
  /** What the loss and the accuracy take: the model's output, or the sigmoid's pre-activation. Differentiable. */
  forward(inputs: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor;
  /**
   * The model to run for `forward` (the classifier, or the part of it before its sigmoid), and the
   * step from that model's output to what the loss takes: for callers that run the model their own
   * way (with taps).
   */
  readonly body: LayersModel;
  finish(bodyOutput: tf.Tensor): tf.Tensor;
}

/** Layers that pass their input's values on (at inference) without changing what they mean. */
const LOOK_THROUGH = new Set(['Dropout', 'AlphaDropout', 'GaussianDropout', 'SpatialDropout1D', 'SpatialDropout2D', 'Flatten', 'Reshape']);

/** Activation layers that are not one of the three kinds (refused by 'auto'). */
const ACTIVATION_LAYERS: Readonly<Record<string, string>> = { ReLU: 'relu', LeakyReLU: 'leaky relu', ELU: 'elu', PReLU: 'prelu', ThresholdedReLU: 'thresholded relu' };

const KIND_OF_ACTIVATION: Readonly<Record<string, ClassifierOutput>> = { softmax: 'probabilities', linear: 'logits', sigmoid: 'sigmoid' };

const KIND_TEXT: Readonly<Record<ClassifierOutput, string>> = {
  probabilities: 'probabilities (softmax)',
  logits: 'logits (linear)',
  sigmoid: 'sigmoid',
};

type Layer = tfl.layers.Layer;

/** The layer whose activation the output has, after look-through layers, and that activation (undefined: none ippro can read). */
interface OutputActivation {
  layer: Layer;
  activation: string | undefined;
  /** The activation is the model's output layer's own (no look-through layer after it). */
  direct: boolean;
}

function singleInboundLayer(layer: Layer): Layer | undefined {
  const nodes = layer.inboundNodes;
  if (nodes.length !== 1 || nodes[0]?.inboundLayers.length !== 1) return undefined;
  return nodes[0].inboundLayers[0];
}

function activationOf(layer: Layer): string | undefined {
  const className = layer.getClassName();
  if (className === 'Softmax') return 'softmax';
  const named = ACTIVATION_LAYERS[className];
  if (named !== undefined) return named;
  const value = (layer.getConfig() as Record<string, unknown>)['activation'];
  return typeof value === 'string' ? value : undefined;
}

function readOutputActivation(model: LayersModel): OutputActivation {
  let layer = (model.outputs[0] as SymbolicTensor).sourceLayer as Layer;
  let direct = true;
  while (LOOK_THROUGH.has(layer.getClassName()) || (layer.getClassName() === 'Activation' && activationOf(layer) === 'linear')) {
    const before = singleInboundLayer(layer);
    if (before === undefined || before.getClassName() === 'InputLayer') break;
    layer = before;
    direct = false;
  }
  return { layer, activation: activationOf(layer), direct };
}

function describeLayer(layer: Layer): string {
  return `output layer '${layer.name}' (${layer.getClassName()})`;
}

/** The model's output shape [batch, units], or why the model has none ippro scores. */
function outputUnits(model: LayersModel): number {
  if (model.outputs.length !== 1) {
    throw new OutputKindError(`the model has ${model.outputs.length} outputs (${model.outputNames.join(', ')}); ippro scores classifiers with one output`);
  }
  const output = model.outputs[0] as SymbolicTensor;
  const layer = output.sourceLayer as Layer;
  const shape = output.shape;
  const units = shape[1];
  if (shape.length !== 2 || units === null || units === undefined) {
    throw new OutputKindError(`${describeLayer(layer)} gives outputs of shape [${shape.map((d) => d ?? 'batch').join(', ')}]; a classifier's output is [batch, units]`);
  }
  return units;
}

/**
 * The kind of the model's output: with 'auto', read from the activation of the output layer (through
 * Dropout, Flatten, Reshape and linear Activation layers): softmax means probabilities, linear
 * means logits, sigmoid means sigmoid. Refused, naming the output layer: several outputs, an output
 * not of rank 2, another activation (relu, tanh, ...), or (with 'auto') a last layer whose activation
 * cannot be read (a pooling, Add or BatchNormalization layer: state the kind). A stated kind that
 * contradicts a readable softmax, linear or sigmoid activation is refused too.
 */
export function resolveOutputKind(model: LayersModel, setting: OutputSetting = 'auto'): ClassifierOutput {
  return classifierHead(model, setting).output;
}

/** The head of the model for the stated kind (see resolveOutputKind). */
export function classifierHead(model: LayersModel, setting: OutputSetting = 'auto'): ClassifierHead {
  if (!(OUTPUT_SETTINGS as readonly string[]).includes(setting)) {
    throw new OutputKindError(`unknown output kind '${String(setting)}'; known: ${OUTPUT_SETTINGS.join(', ')}`);
  }
  const units = outputUnits(model);
  const found = readOutputActivation(model);
  const read = found.activation === undefined ? undefined : KIND_OF_ACTIVATION[found.activation];
  const where = describeLayer(found.layer);
  let output: ClassifierOutput;
  if (setting === 'auto') {
    if (found.activation === undefined) {
      throw new OutputKindError(`${where} has no activation ippro can read; state the output kind: probabilities, logits or sigmoid (--output)`);
    }
    if (read === undefined) {
      throw new OutputKindError(`${where} has activation ${found.activation}; ippro scores probabilities (softmax), logits (linear) or sigmoid outputs`);
    }
    output = read;
  } else {
    if (read !== undefined && read !== setting) {
      throw new OutputKindError(`output kind ${setting} contradicts the model: ${where} has activation ${found.activation}, which gives ${KIND_TEXT[read]}`);
    }
    output = setting;
  }
  if (output === 'sigmoid' && read === 'sigmoid' && found.direct) {
    const head = preActivationHead(model, found.layer, units);
    if (head !== undefined) return head;
  }
  return {
    output,
    outputLayer: found.layer.name,
    units,
    preActivation: false,
    body: model,
    finish: (bodyOutput) => bodyOutput,
    forward: (inputs, training) => model.apply(inputs, { training }) as tf.Tensor,
  };
}

/**
 * The head that reads a sigmoid's pre-activation: for an Activation('sigmoid') layer its input, for a
 * Dense layer with activation sigmoid x W + b from that layer's own weights. Undefined when the
 * layer's input is not one plain tensor (a shared layer, several inputs).
 */
function preActivationHead(model: LayersModel, layer: Layer, units: number): ClassifierHead | undefined {
  if (layer.inboundNodes.length !== 1) return undefined;
  const input = layer.input;
  if (Array.isArray(input) || input.shape.length !== 2) return undefined;
  let finish: (bodyOutput: tf.Tensor) => tf.Tensor;
  if (layer.getClassName() === 'Activation') {
    finish = (bodyOutput) => bodyOutput;
  } else if (layer.getClassName() === 'Dense') {
    const kernel = layer.weights.find((weight) => weight.originalName.endsWith('/kernel'));
    const bias = layer.weights.find((weight) => weight.originalName.endsWith('/bias'));
    if (kernel === undefined) return undefined;
    finish = (bodyOutput) => {
      const product = tf.matMul(bodyOutput as tf.Tensor2D, kernel.read() as tf.Tensor2D);
      return bias === undefined ? product : tf.add(product, bias.read());
    };
  } else {
    return undefined;
  }
  const body = tfl.model({ inputs: model.inputs, outputs: input, name: `${model.name}_before_${layer.name}` });
  return {
    output: 'sigmoid',
    outputLayer: layer.name,
    units,
    preActivation: true,
    body,
    finish,
    forward: (inputs, training) => tf.tidy(() => finish(body.apply(inputs, { training }) as tf.Tensor)),
  };
}

/** What a kind's accuracy counts as a hit, as tables label it. */
export function accuracyName(output: ClassifierOutput): 'top-1' | 'exact match' {
  return output === 'sigmoid' ? 'exact match' : 'top-1';
}
