import type * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.layers.Layer;
type LayerCall = Layer['inboundNodes'][number];

/** Where a call reads one of its inputs: output `tensorIndex` of call `nodeIndex` of `layer`. */
export interface TensorSource {
  layer: Layer;
  nodeIndex: number;
  tensorIndex: number;
}

/** One call of a layer inside the model (a layer called twice is shared: two calls). */
export interface ModelCall {
  layer: Layer;
  nodeIndex: number;
  node: LayerCall;
  inputs: TensorSource[];
}

/** The calls of a model in a fixed topological order, plus its inputs and outputs. */
export interface ModelTopology {
  calls: ModelCall[];
  inputs: TensorSource[];
  outputs: TensorSource[];
}

export function callKey(layer: Layer, nodeIndex: number): string {
  return `${layer.name}#${nodeIndex}`;
}

function sourceOf(tensor: tfl.SymbolicTensor, role: string): TensorSource {
  if (tensor.sourceLayer === undefined || tensor.nodeIndex === undefined) {
    throw new Error(`Model ${role} tensor "${tensor.name}" has no source layer`);
  }
  return { layer: tensor.sourceLayer as Layer, nodeIndex: tensor.nodeIndex, tensorIndex: tensor.tensorIndex ?? 0 };
}

function callInputs(node: LayerCall): TensorSource[] {
  return node.inboundLayers.map((layer, i) => ({
    layer,
    nodeIndex: node.nodeIndices[i],
    tensorIndex: node.tensorIndices[i],
  }));
}

/** Every call the outputs depend on, found by walking back from the outputs. */
function reachableCalls(outputs: TensorSource[]): Map<string, ModelCall> {
  const calls = new Map<string, ModelCall>();
  const pending = [...outputs];
  while (pending.length > 0) {
    const { layer, nodeIndex } = pending.pop() as TensorSource;
    const key = callKey(layer, nodeIndex);
    if (calls.has(key)) continue;
    const node = layer.inboundNodes[nodeIndex];
    if (node === undefined) {
      throw new Error(`Layer "${layer.name}" has no call #${nodeIndex}`);
    }
    const inputs = callInputs(node);
    calls.set(key, { layer, nodeIndex, node, inputs });
    pending.push(...inputs);
  }
  return calls;
}

/**
 * Kahn's algorithm; among ready calls the one whose layer comes first in `layerOrder` (then the
 * lower call index) goes first, so the order is the model's own layer order whenever it can be.
 */
function topologicalOrder(calls: Map<string, ModelCall>, layerOrder: Map<Layer, number>): ModelCall[] {
  const waitingOn = new Map<string, number>();
  const consumers = new Map<string, string[]>();
  for (const [key, call] of calls) {
    const producers = new Set(call.inputs.map((s) => callKey(s.layer, s.nodeIndex)));
    waitingOn.set(key, producers.size);
    for (const producer of producers) consumers.set(producer, [...(consumers.get(producer) ?? []), key]);
  }
  const rank = (call: ModelCall): number => (layerOrder.get(call.layer) ?? layerOrder.size) * 1e6 + call.nodeIndex;
  const ready = [...calls.keys()].filter((key) => waitingOn.get(key) === 0);
  const ordered: ModelCall[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => rank(calls.get(a) as ModelCall) - rank(calls.get(b) as ModelCall));
    const key = ready.shift() as string;
    ordered.push(calls.get(key) as ModelCall);
    for (const consumer of consumers.get(key) ?? []) {
      const left = (waitingOn.get(consumer) as number) - 1;
      waitingOn.set(consumer, left);
      if (left === 0) ready.push(consumer);
    }
  }
  return ordered;
}

/**
 * Reads the call graph of a Sequential or functional model from its symbolic inputs and
 * outputs (a Sequential model need not be built).
 */
export function readModelTopology(model: tfl.LayersModel): ModelTopology {
  if (model.outputs === undefined || model.outputs.length === 0) {
    throw new Error(`Model "${model.name}" has no outputs: add layers (and an input shape) first`);
  }
  const inputs = model.inputs.map((t) => sourceOf(t, 'input'));
  const outputs = model.outputs.map((t) => sourceOf(t, 'output'));
  const layerOrder = new Map<Layer, number>();
  for (const source of inputs) if (!layerOrder.has(source.layer)) layerOrder.set(source.layer, layerOrder.size);
  for (const layer of model.layers) if (!layerOrder.has(layer)) layerOrder.set(layer, layerOrder.size);
  // Inputs that no output depends on still belong to the model (they are fed, then unused).
  const calls = reachableCalls([...outputs, ...inputs]);
  return { calls: topologicalOrder(calls, layerOrder), inputs, outputs };
}
