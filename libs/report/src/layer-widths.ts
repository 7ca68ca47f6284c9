import { buildChannelGraph } from '@ippro/graph';
import type { ChannelGraph } from '@ippro/graph';
import { modelFromArtifact } from '@ippro/model-artifact';
import type { ReadArtifact, WidthChart } from './run-record';

/** Output channels of each layer that owns units (Conv2D, Dense, DepthwiseConv2D...), the output layers excepted. */
export function unitLayerWidths(graph: ChannelGraph): Map<string, number> {
  const outputs = new Set(graph.outputLayers);
  return new Map(
    graph.layers
      .filter((layer) => (layer.role === 'producer' || layer.role === 'depthwise') && !outputs.has(layer.name))
      .map((layer) => [layer.name, layer.outputChannels]),
  );
}

async function widthsOf(read: ReadArtifact, modelArtifactId: string): Promise<Map<string, number>> {
  const model = await modelFromArtifact(await read(modelArtifactId));
  try {
    return unitLayerWidths(buildChannelGraph(model));
  } finally {
    model.dispose();
  }
}

/**
 * A width chart: the layers of the first model (surgery keeps layer names), each model's
 * width per layer (0 where a model lacks the layer).
 */
export async function widthChart(read: ReadArtifact, title: string, models: readonly { label: string; modelArtifactId: string }[]): Promise<WidthChart> {
  const cache = new Map<string, Map<string, number>>();
  const widths: Map<string, number>[] = [];
  for (const { modelArtifactId } of models) {
    let found = cache.get(modelArtifactId);
    if (found === undefined) {
      found = await widthsOf(read, modelArtifactId);
      cache.set(modelArtifactId, found);
    }
    widths.push(found);
  }
  const layers = [...(widths[0]?.keys() ?? [])];
  return {
    title,
    layers,
    series: models.map((model, index) => ({ label: model.label, widths: layers.map((layer) => widths[index]?.get(layer) ?? 0) })),
  };
}
