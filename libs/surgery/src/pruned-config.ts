import type { serialization } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { headsNodeName } from '@ippro/graph';
import { MultiHeadAttention } from '@ippro/layers';
import type { KeptChannels } from './kept-channels';

type ConfigDict = serialization.ConfigDict;

/** Layers whose output width is a config field; every other layer infers it from its input. */
const WIDTH_FIELD: Readonly<Record<string, string>> = {
  Conv2D: 'filters',
  SeparableConv2D: 'filters',
  Dense: 'units',
  Embedding: 'outputDim',
};

/** A MultiHeadAttention keeps its surviving heads; an explicit output width follows its kept outputs. */
function narrowAttention(config: ConfigDict, name: string, kept: ReadonlyMap<string, KeptChannels>): void {
  const heads = kept.get(headsNodeName(name));
  if (heads !== undefined) config['numHeads'] = heads.outputs.length;
  const outputs = kept.get(name);
  if (config['outputShape'] !== null && config['outputShape'] !== undefined && outputs !== undefined) config['outputShape'] = outputs.outputs.length;
}

/** A Reshape that keeps the channel axis (the graph freezes any other) ends in the kept channels. */
function narrowReshape(config: ConfigDict, layerKept: KeptChannels | undefined): void {
  const target = config['targetShape'];
  if (layerKept !== undefined && Array.isArray(target)) {
    config['targetShape'] = [...target.slice(0, -1), layerKept.outputs.length] as serialization.ConfigDictValue;
  }
}

interface LayerEntry {
  className: string;
  config: ConfigDict;
}

function layerEntries(modelConfig: ConfigDict): LayerEntry[] {
  const entries = modelConfig['layers'];
  if (!Array.isArray(entries)) {
    throw new Error(`model config has no layer list (got ${typeof entries})`);
  }
  return entries as unknown as LayerEntry[];
}

/** tfjs 4.22 drops SeparableConv2D's depthMultiplier from getConfig; the kernel still knows it. */
function separableDepthMultiplier(model: LayersModel, layerName: string): number {
  const depthwise = model.getLayer(layerName).weights.find((w) => w.originalName.endsWith('/depthwise_kernel'));
  return depthwise ? Number(depthwise.read().shape[3]) : 1;
}

/**
 * The model's config (a deep copy) with every width-defining layer narrowed to its kept
 * output channels. Layer names, wiring and all other settings are unchanged.
 */
export function prunedModelConfig(model: LayersModel, kept: ReadonlyMap<string, KeptChannels>): ConfigDict {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as ConfigDict;
  for (const entry of layerEntries(config)) {
    const name = String(entry.config['name']);
    const field = WIDTH_FIELD[entry.className];
    const layerKept = kept.get(name);
    if (field !== undefined && layerKept !== undefined) {
      entry.config[field] = layerKept.outputs.length;
    }
    if (entry.className === MultiHeadAttention.className) narrowAttention(entry.config, name, kept);
    if (entry.className === 'Reshape') narrowReshape(entry.config, layerKept);
    if (entry.className === 'SeparableConv2D') {
      entry.config['depthMultiplier'] = separableDepthMultiplier(model, name);
    }
  }
  return config;
}
