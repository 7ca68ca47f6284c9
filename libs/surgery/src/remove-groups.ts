import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, layers } from '@tensorflow/tfjs-layers';
import { headsNodeName, type ChannelGraph, type LayerNode } from '@ippro/graph';
import { keptChannelsPerLayer, type KeptChannels } from './kept-channels';
import { prunedModelConfig } from './pruned-config';
import { modelFromConfig } from './rebuild-model';
import { resolveRemovedGroups, type GroupSelection } from './removed-groups';
import { SurgeryError } from './surgery-error';
import { sliceLayerWeights } from './weight-slicing';

/** Sliced weights by layer name, in the order of the layer's `weights`. */
type SlicedWeights = Map<string, tf.Tensor[]>;

/** Size of the layer's last output axis; undefined when unknown or the layer has several outputs. */
function outputWidth(layer: layers.Layer): number | undefined {
  const shape = layer.outputShape;
  if (Array.isArray(shape[0])) return undefined;
  const width = (shape as (number | null)[])[shape.length - 1];
  return width ?? undefined;
}

/** Refuses a graph built from another model: every layer must be there with the same width. */
function graphNodesFor(model: LayersModel, graph: ChannelGraph): Map<string, LayerNode> {
  const nodes = new Map(graph.layers.map((node) => [node.name, node]));
  for (const layer of model.layers) {
    const node = nodes.get(layer.name);
    if (!node) {
      throw new SurgeryError(`layer '${layer.name}' of model '${model.name}' is not in the graph of '${graph.modelName}'`);
    }
    const width = outputWidth(layer);
    const graphWidth = node.outputChannels * (node.spatialSize ?? 1);
    if (width !== undefined && width !== graphWidth) {
      throw new SurgeryError(
        `layer '${layer.name}' has ${width} output features but the graph of '${graph.modelName}' says ${graphWidth}`,
      );
    }
  }
  return nodes;
}

function sliceModelWeights(
  model: LayersModel,
  nodes: ReadonlyMap<string, LayerNode>,
  kept: ReadonlyMap<string, KeptChannels>,
): SlicedWeights {
  const sliced: SlicedWeights = new Map();
  try {
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const heads = kept.get(headsNodeName(layer.name));
      sliced.set(layer.name, sliceLayerWeights(layer, nodes.get(layer.name) as LayerNode, kept.get(layer.name) as KeptChannels, heads));
    }
  } catch (error) {
    disposeSliced(sliced);
    throw error;
  }
  return sliced;
}

function disposeSliced(sliced: SlicedWeights): void {
  for (const weights of sliced.values()) tf.dispose(weights);
}

function assignWeights(pruned: LayersModel, sliced: SlicedWeights): void {
  for (const layer of pruned.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((variable, index) => {
      const value = sliced.get(layer.name)?.[index];
      const expected = variable.read().shape;
      if (!value || !tf.util.arraysEqual(value.shape, expected)) {
        throw new SurgeryError(
          `rebuilt layer '${layer.name}' expects '${variable.originalName}' of shape [${expected}], sliced [${value?.shape ?? 'nothing'}]`,
        );
      }
      return value;
    });
    layer.setWeights(values);
  }
}

/**
 * Removes channel groups from a model and returns the smaller model. The input model is not
 * changed. Every Conv2D, SeparableConv2D and Dense keeps only its surviving filters or units,
 * and every consumer (convolution, dense row, depthwise channel, batch-norm channel, the
 * features behind a Flatten) drops the matching input slices. Layer names are kept.
 *
 * `removed` holds group indices (into `graph.groups`) or group ids; `graph` must have been
 * built from this model. Throws a SurgeryError, before building anything, for an unknown or
 * unprunable group, a layer left without channels, or a layer with weights it cannot slice.
 */
export function removeGroups(model: LayersModel, graph: ChannelGraph, removed: GroupSelection): LayersModel {
  const removedIndices = resolveRemovedGroups(graph, removed);
  const nodes = graphNodesFor(model, graph);
  const kept = keptChannelsPerLayer(graph, removedIndices);
  const sliced = sliceModelWeights(model, nodes, kept);
  let pruned: LayersModel | undefined;
  try {
    pruned = modelFromConfig(model, prunedModelConfig(model, kept));
    assignWeights(pruned, sliced);
    return pruned;
  } catch (error) {
    pruned?.dispose();
    throw error;
  } finally {
    // setWeights keeps its own reference to the data, so the slices can always go.
    disposeSliced(sliced);
  }
}
