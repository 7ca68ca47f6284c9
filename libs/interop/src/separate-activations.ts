import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildChannelGraph, loadLayersModelFromDir } from '@ippro/graph';
import { hidingFusedActivation } from '@ippro/importance';

/** A fused activation made a layer of its own. */
export interface SeparatedActivation {
  layer: string;
  activation: string;
  /** The new Activation layer, right after `layer`. */
  activationLayer: string;
}

type NodeRef = [string, number, number, Record<string, unknown>];
interface LayerEntry {
  name?: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes?: NodeRef[][];
}
interface ModelJson {
  modelTopology: { class_name: string; config: { layers: LayerEntry[]; output_layers?: [string, number, number][] } };
}

/**
 * ippro scores a unit at its output before any activation (IPPRO.md §1), so a hidden layer whose
 * fused activation (swish, gelu, relu6, ...) hides that point cannot be scored. Such activations
 * are moved into an Activation layer right after their layer (`<layer>_<activation>`): the model
 * computes the same outputs and ippro can score it. Rewrites `dir`'s model.json; returns what moved.
 */
export async function separateHidingActivations(dir: string): Promise<SeparatedActivation[]> {
  const model = await loadLayersModelFromDir(dir);
  const hiding = new Map<string, string>();
  try {
    for (const group of buildChannelGraph(model).groups.filter((candidate) => candidate.prunable)) {
      for (const member of group.members) {
        const activation = hidingFusedActivation(model, member);
        if (activation !== undefined) hiding.set(member.layer, activation);
      }
    }
  } finally {
    model.dispose();
  }
  if (hiding.size === 0) return [];
  const file = join(dir, 'model.json');
  const document = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
  const separated = separateInTopology(document.modelTopology, hiding);
  await writeFile(file, JSON.stringify(document));
  return separated;
}

function separateInTopology(topology: ModelJson['modelTopology'], hiding: ReadonlyMap<string, string>): SeparatedActivation[] {
  const layers = topology.config.layers;
  const taken = new Set(layers.map(layerName));
  const separated: SeparatedActivation[] = [];
  for (let index = 0; index < layers.length; index++) {
    const entry = layers[index] as LayerEntry;
    const layer = layerName(entry);
    const activation = hiding.get(layer);
    if (activation === undefined) continue;
    let activationLayer = `${layer}_${activation}`;
    for (let suffix = 1; taken.has(activationLayer); suffix++) activationLayer = `${layer}_${activation}_${suffix}`;
    taken.add(activationLayer);
    entry.config['activation'] = 'linear';
    const added: LayerEntry = { class_name: 'Activation', config: { name: activationLayer, trainable: true, activation } };
    if (entry.inbound_nodes !== undefined) {
      renameConsumers(topology, layer, activationLayer);
      added.name = activationLayer;
      added.inbound_nodes = entry.inbound_nodes.map((_, node): NodeRef[] => [[layer, node, 0, {}]]);
    }
    layers.splice(index + 1, 0, added);
    separated.push({ layer, activation, activationLayer });
    index++;
  }
  return separated;
}

function layerName(entry: LayerEntry): string {
  return String(entry.name ?? entry.config['name']);
}

/** Every call on `from`'s outputs (and the model output) now takes `to`'s, node for node. */
function renameConsumers(topology: ModelJson['modelTopology'], from: string, to: string): void {
  for (const entry of topology.config.layers) {
    for (const node of entry.inbound_nodes ?? []) {
      for (const ref of node) if (ref[0] === from) ref[0] = to;
    }
  }
  for (const ref of topology.config.output_layers ?? []) if (ref[0] === from) ref[0] = to;
}
