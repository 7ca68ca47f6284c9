import { Command } from 'commander';
import { describeGraph } from '@ippro/graph';
import type { GraphSummary, GroupSummary } from '@ippro/graph';
import { addSettingOptions } from '@ippro/settings';
import { LAYER_SETTINGS, loadModel, loadModelGraph, startBackend } from '../cli-inputs';
import { commandSettings } from '../command-settings';
import { formatCount, textTable } from '../text-table';

interface InspectOptions {
  json?: boolean;
  backend: string;
}

export function inspectCommand(): Command {
  const command = new Command('inspect');
  return addSettingOptions(command, LAYER_SETTINGS)
    .description('show params, FLOPs, layers, prunable groups (by kind) and widths of a model')
    .argument('<dir>', 'model directory (model.json + weights)')
    .option('--json', 'print JSON instead of a table')
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'cpu')
    .action(async (dir: string, options: InspectOptions) => {
      const { strictLayers } = commandSettings(command, LAYER_SETTINGS).values;
      await startBackend(options.backend, options.json === true);
      const model = await loadModel(dir);
      // The table names every layer kept whole and why; warnings would say it twice.
      const graph = await loadModelGraph(model, dir, { strict: strictLayers, warn: false });
      const summary = describeGraph(graph);
      process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
    });
}

/** Groups that remove the same units from the same layers, with equal costs, as one row. */
function groupRows(groups: readonly GroupSummary[]): (string | number)[][] {
  const rows = new Map<string, { first: GroupSummary; count: number }>();
  for (const group of groups) {
    const key = [group.kind, group.unitLayers.join(','), group.units, group.params, group.macs].join('\u0000');
    const row = rows.get(key);
    if (row === undefined) rows.set(key, { first: group, count: 1 });
    else row.count += 1;
  }
  return [...rows.values()].map(({ first, count }) => [first.kind, first.unitLayers.join(', '), count, first.units, first.params, first.macs]);
}

function renderSummary(summary: GraphSummary): string {
  const cost = summary.cost;
  const kinds = Object.entries(summary.prunableByKind).filter(([, count]) => count > 0).map(([kind, count]) => `${count} ${kind}`);
  const head = [
    `model: ${summary.modelName}`,
    cost
      ? `params: ${cost.params} (${formatCount(cost.params)})  FLOPs (MACs per image): ${cost.macs} (${formatCount(cost.macs)})`
      : `params and FLOPs unavailable: ${summary.costUnavailable ?? 'unknown sizes'}`,
    `groups: ${summary.groups} (${summary.prunableGroups} prunable${kinds.length > 0 ? `: ${kinds.join(', ')}` : ''})  outputs: ${summary.outputLayers.join(', ')}`,
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
  const layers = textTable(['layer', 'class', 'role', 'width', 'prunable', 'note'], rows);
  if (summary.groupCosts === null || summary.groupCosts.length === 0) return `${head.join('\n')}${layers}\n`;
  // Params and FLOPs are what removing one group of the row saves.
  const groups = textTable(['kind', 'units in', 'groups', 'units', 'params', 'FLOPs'], groupRows(summary.groupCosts));
  return `${head.join('\n')}${layers}\n\nprunable groups (params and FLOPs each one removes):\n${groups}\n`;
}
