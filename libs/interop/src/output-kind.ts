import type { LayersModel } from '@tensorflow/tfjs-layers';

/** What a classifier's output is, read from the layer that produces it. */
export type OutputKind = 'softmax' | 'sigmoid' | 'linear' | 'other';

export interface ModelOutput {
  kind: OutputKind;
  /** The output layer's activation ('softmax', 'relu', ...), or its class when it has none. */
  activation: string;
  /** Values per example (the last axis). */
  units: number;
}

const KIND_BY_ACTIVATION: Readonly<Record<string, OutputKind>> = { softmax: 'softmax', sigmoid: 'sigmoid', linear: 'linear' };

export function modelOutput(model: LayersModel): ModelOutput {
  const layer = model.layers[model.layers.length - 1];
  const units = model.outputs[0]?.shape.at(-1) ?? 0;
  if (layer === undefined) return { kind: 'other', activation: 'none', units };
  if (layer.getClassName() === 'Softmax') return { kind: 'softmax', activation: 'softmax', units };
  const activation = layer.getConfig()['activation'];
  // Layers without an activation (pooling, merges, reshapes) pass values through unbounded.
  if (typeof activation !== 'string') return { kind: 'linear', activation: layer.getClassName(), units };
  return { kind: KIND_BY_ACTIVATION[activation] ?? 'other', activation, units };
}
