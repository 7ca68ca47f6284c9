import { Command } from 'commander';
import { KERAS_ENVIRONMENT_SETTINGS, checkImportTarget, importKerasModel } from '@ippro/interop';
import type { ImportedModel } from '@ippro/interop';
import { TEXT, required, setting, toggle } from '@ippro/settings';
import { addSettings, asUsage, commandSettings } from '../command-settings';
import { withKeras } from '../keras-interop';
import { formatCount } from '../text-table';

const IMPORT_SETTINGS = {
  out: setting({ parse: TEXT, placeholder: 'DIR', help: 'new directory for the LayersModel (model.json + weights.bin); required' }),
  json: toggle({ help: 'print the result as JSON on stdout' }),
  ...KERAS_ENVIRONMENT_SETTINGS,
};

export function importCommand(): Command {
  const command = addSettings(
    new Command('import')
      .description('convert a Keras model (.keras of Keras 3, .h5 of tf.keras 2) into a LayersModel directory that ippro inspects, scores and prunes')
      .argument('<model>', 'the .keras or .h5 file'),
    IMPORT_SETTINGS,
  );
  return command.action(async (source: string, _options: unknown, self: Command) => {
    const settings = commandSettings(self, IMPORT_SETTINGS);
    const out = asUsage(() => required(settings, 'out'));
    const imported = await withKeras(settings.values.kerasEnv, () => checkImportTarget(source, out), (converter) => importKerasModel(converter, source, out));
    process.stdout.write(settings.values.json ? `${JSON.stringify(imported, null, 2)}\n` : renderImport(imported));
  });
}

function renderImport(imported: ImportedModel): string {
  const kind = imported.modelClass === 'Sequential' ? 'Sequential' : 'functional';
  const shape = imported.inputShape.map((size) => size ?? '?').join('x');
  const output = imported.output;
  return [
    `imported ${imported.source} (Keras ${imported.kerasVersion}, .${imported.format}, ${kind} model '${imported.modelName}') into ${imported.outDir}`,
    `layers: ${imported.layers}  params: ${imported.params} (${formatCount(imported.params)})  input: ${shape}  output: ${output.kind} (${output.activation}, ${output.units} values)`,
    `prunable groups: ${imported.prunableGroups}`,
    ...imported.separatedActivations.map(
      (moved) => `separate activation layer ${moved.activationLayer}: ${moved.layer}'s fused ${moved.activation} (ippro scores a unit before its activation; the outputs are the same)`,
    ),
    '',
  ].join('\n');
}
