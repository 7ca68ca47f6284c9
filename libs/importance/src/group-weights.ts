import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph, ChannelGroup } from '@ippro/graph';
import { layoutGroup } from './group-layout';
import type { WeightSlice } from './unit-slices';
import { optionalLayerWeight, requireLayer } from './layer-weights';

/** The weights a score reads for one group. */
export interface GroupWeightEntry {
  group: ChannelGroup;
  /** F_g: the unit members' producing weights concatenated in member order (float64). */
  f: Float64Array;
  /** |gamma| of each batchnorm member, in member order (1 when the layer has no scale). */
  batchNormGammas: Float64Array;
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
    };
  });
  return { modelName: graph.modelName, includeBias, groups };
}
