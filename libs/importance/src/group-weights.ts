import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph, ChannelGroup } from '@ippro/graph';
import type { GroupLayout } from './group-layout';
import { layoutGroup } from './group-layout';
import type { WeightSlice } from './unit-slices';
import { optionalLayerWeight, requireLayer } from './layer-weights';
import { consumerInputSlices } from './consumer-slices';

/** The weights a score reads for one group. */
export interface GroupWeightEntry {
  group: ChannelGroup;
  /** F_g: the unit members' producing weights concatenated in member order (float64). */
  f: Float64Array;
  /** |gamma| of each batchnorm member, in member order (1 when the layer has no scale). */
  batchNormGammas: Float64Array;
  /** Sum of squares of the consumers' input-channel slices (consumerInputSlices): what surgery cuts from the next layers. */
  consumerSquaredNorm: number;
}

/** Every prunable group's weights, in graph order (unprunable groups are never scored). */
export interface GroupWeights {
  modelName: string;
  includeBias: boolean;
  groups: GroupWeightEntry[];
}

export interface GroupWeightsOptions {
  /** Include each unit's bias entry in F_g (after its kernel slice). Default false. */
  includeBias?: boolean;
}

/** Reads the model's weights once per weight tensor: a cache keyed by variable identity. */
class WeightReader {
  private readonly cache = new Map<object, Float32Array>();

  values(slice: WeightSlice): Float32Array {
    let data = this.cache.get(slice.variable);
    if (data === undefined) {
      data = slice.variable.dataSync() as Float32Array;
      this.cache.set(slice.variable, data);
    }
    return data;
  }
}

function concatenateSlices(slices: readonly WeightSlice[], fSize: number, reader: WeightReader): Float64Array {
  const f = new Float64Array(fSize);
  let offset = 0;
  for (const slice of slices) {
    const data = reader.values(slice);
    for (const index of slice.indices) {
      f[offset++] = data[index];
    }
  }
  return f;
}

function squaredNorm(slices: readonly WeightSlice[], reader: WeightReader): number {
  let sum = 0;
  for (const slice of slices) {
    const data = reader.values(slice);
    for (const index of slice.indices) {
      sum += data[index] * data[index];
    }
  }
  return sum;
}

/** F_g of each layout as the model's variables hold it now, each weight tensor read once. */
export function readGroupVectors(layouts: readonly GroupLayout[]): Float64Array[] {
  const reader = new WeightReader();
  return layouts.map((layout) => concatenateSlices(layout.slices, layout.fSize, reader));
}

function batchNormGammas(model: LayersModel, group: ChannelGroup): Float64Array {
  const members = group.members.filter((member) => member.kind === 'batchnorm');
  return Float64Array.from(members, (member) => {
    const gamma = optionalLayerWeight(requireLayer(model, member.layer), 'gamma');
    // A BatchNormalization built with scale: false multiplies by an implicit 1.
    return gamma === undefined ? 1 : Math.abs(gamma.dataSync()[member.channel]);
  });
}

/** F_g (and the batchnorm scales) of every prunable group in the graph, read from the model. */
export function groupWeights(model: LayersModel, graph: ChannelGraph, options: GroupWeightsOptions = {}): GroupWeights {
  const includeBias = options.includeBias ?? false;
  const reader = new WeightReader();
  const groups = graph.groups
    .filter((group) => group.prunable)
    .map((group) => {
    const layout = layoutGroup(model, group, includeBias);
    return {
      group,
      f: concatenateSlices(layout.slices, layout.fSize, reader),
      batchNormGammas: batchNormGammas(model, group),
      consumerSquaredNorm: squaredNorm(consumerInputSlices(model, graph, group), reader),
    };
  });
  return { modelName: graph.modelName, includeBias, groups };
}
