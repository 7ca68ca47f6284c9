import { Command } from 'commander';
import { buildChannelGraph, describeGraph } from '@ippro/graph';
import type { GraphSummary } from '@ippro/graph';
import { asBadInput, loadModel, startBackend } from '../cli-inputs';
import { formatCount, textTable } from '../text-table';

interface InspectOptions {
  json?: boolean;
  backend: string;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show params, FLOPs, layers, prunable groups and widths of a model')
    .argument('<dir>', 'model directory (model.json + weights)')
    .option('--json', 'print JSON instead of a table')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'cpu')
    .action(async (dir: string, options: InspectOptions) => {
      await startBackend(options.backend, options.json === true);
      const model = await loadModel(dir);
      const graph = await asBadInput(`model ${dir}`, () => buildChannelGraph(model));
      const summary = describeGraph(graph);
      process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
    });
}

function renderSummary(summary: GraphSummary): string {
  const cost = summary.cost;
  const head = [
    `model: ${summary.modelName}`,
    cost
      ? `params: ${cost.params} (${formatCount(cost.params)})  FLOPs (MACs per image): ${cost.macs} (${formatCount(cost.macs)})`
      : `params and FLOPs unavailable: ${summary.costUnavailable ?? 'unknown sizes'}`,
    `groups: ${summary.groups} (${summary.prunableGroups} prunable)  outputs: ${summary.outputLayers.join(', ')}`,
    '',
  ];
  const rows = summary.layers.map((layer) => [
    layer.name,
    layer.className,
    layer.role,
    layer.channels,
    layer.prunableGroups,
    layer.frozenReason ?? '',
  ]);
  return `${head.join('\n')}${textTable(['layer', 'class', 'role', 'width', 'prunable', 'note'], rows)}\n`;
}
