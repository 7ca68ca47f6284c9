import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { INTERNAL_TAPS_ARG } from '@ippro/layers';
import { callKey, ModelCall, readModelTopology, TensorSource } from './model-topology';

/** Replaces a layer's output tensor by a function of it (same shape). */
export type LayerTap = (output: tf.Tensor) => tf.Tensor;

export interface ApplyWithTapsOptions {
  /**
   * Training mode for Dropout and BatchNormalization; false (inference) by default. A function
   * chooses per layer (batch normalisation in training mode with dropout off, for instance).
   */
  training?: boolean | ((layer: tfl.layers.Layer) => boolean);
}

function asList(value: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(value) ? value : [value];
}

/** Taps inside layers, by layer, then by tap point: a tap named `<layer>/<point>` (e.g. `attention/heads`). */
type InternalTapsByLayer = Map<string, Record<string, LayerTap>>;

/** Splits the taps into output taps (by layer) and internal taps; refuses names the model does not compute. */
function splitTaps(calls: readonly ModelCall[], taps: ReadonlyMap<string, LayerTap>): InternalTapsByLayer {
  const names = new Set(calls.map((call) => call.layer.name));
  const internal: InternalTapsByLayer = new Map();
  for (const [name, tap] of taps) {
    if (names.has(name)) continue;
    const slash = name.lastIndexOf('/');
    const layer = name.slice(0, slash);
    if (slash < 0 || !names.has(layer)) throw new Error(`Tap names layer "${name}", which the model does not compute`);
    internal.set(layer, { ...internal.get(layer), [name.slice(slash + 1)]: tap });
  }
  return internal;
}

function tapped(layerName: string, outputs: tf.Tensor[], taps: ReadonlyMap<string, LayerTap>): tf.Tensor[] {
  const tap = taps.get(layerName);
  if (tap === undefined) return outputs;
  if (outputs.length !== 1) throw new Error(`Cannot tap layer "${layerName}": it has ${outputs.length} outputs`);
  const result = tap(outputs[0]);
  if (!tf.util.arraysEqual(result.shape, outputs[0].shape)) {
    throw new Error(`Tap on layer "${layerName}" changed its output shape from [${outputs[0].shape}] to [${result.shape}]`);
  }
  return [result];
}

function valueOf(values: Map<string, tf.Tensor[]>, source: TensorSource): tf.Tensor {
  const value = values.get(callKey(source.layer, source.nodeIndex))?.[source.tensorIndex];
  if (value === undefined) throw new Error(`Output ${source.tensorIndex} of layer "${source.layer.name}" was not computed`);
  return value;
}

function runCall(call: ModelCall, values: Map<string, tf.Tensor[]>, training: NonNullable<ApplyWithTapsOptions['training']>, internal: InternalTapsByLayer): tf.Tensor[] {
  const inputs = call.inputs.map((source) => valueOf(values, source));
  const callArgs = (call.node.callArgs ?? {}) as Record<string, unknown>;
  const layerTraining = typeof training === 'function' ? training(call.layer) : training;
  const internalTaps = internal.get(call.layer.name);
  const kwargs = { ...callArgs, training: layerTraining, ...(internalTaps === undefined ? {} : { [INTERNAL_TAPS_ARG]: internalTaps }) };
  const output = call.layer.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs);
  return asList(output as tf.Tensor | tf.Tensor[]);
}

/**
 * Runs the model call by call in topological order on concrete tensors, replacing the output
 * of every layer named in `taps` by `tap(output)` (every call of a shared layer). A tap named
 * `<layer>/<point>` replaces a tensor inside the layer instead (@ippro/layers' internal taps:
 * `attention/heads`, the per-head output of a MultiHeadAttention, heads on the last axis).
 * Equal to `model.predict` when `taps` is empty, and differentiable: gradients flow through the taps.
 */
export function applyWithTaps(
  model: tfl.LayersModel,
  inputs: tf.Tensor | tf.Tensor[],
  taps: ReadonlyMap<string, LayerTap>,
  options: ApplyWithTapsOptions = {},
): tf.Tensor | tf.Tensor[] {
  const topology = readModelTopology(model);
  const internal = splitTaps(topology.calls, taps);
  const fed = asList(inputs);
  if (fed.length !== topology.inputs.length) {
    throw new Error(`Model "${model.name}" takes ${topology.inputs.length} input(s), got ${fed.length}`);
  }
  const training = options.training ?? false;
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor[]>();
    topology.inputs.forEach((source, i) => values.set(callKey(source.layer, source.nodeIndex), [fed[i]]));
    for (const call of topology.calls) {
      const key = callKey(call.layer, call.nodeIndex);
      const computed = values.get(key) ?? runCall(call, values, training, internal);
      values.set(key, tapped(call.layer.name, computed, taps));
    }
    const outputs = topology.outputs.map((source) => valueOf(values, source));
    return outputs.length === 1 ? outputs[0] : outputs;
  });
}
