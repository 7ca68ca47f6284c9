import { Command } from 'commander';
import { KERAS_ENVIRONMENT_SETTINGS, KERAS_FILE_FORMATS, checkExportTarget, exportKerasModel } from '@ippro/interop';
import { TEXT, oneOf, required, setting, toggle } from '@ippro/settings';
import { addSettings, asUsage, commandSettings } from '../command-settings';
import { withKeras } from '../keras-interop';
import { formatCount } from '../text-table';

const EXPORT_SETTINGS = {
  format: setting({ parse: oneOf(KERAS_FILE_FORMATS), help: 'keras: a Keras 3 .keras file | h5: a legacy HDF5 file that Keras 3 and tf.keras 2 load', default: 'keras' }),
  out: setting({ parse: TEXT, placeholder: 'FILE', help: 'the new Keras file (.keras, or .h5 for --format h5); required' }),
  json: toggle({ help: 'print the result as JSON on stdout' }),
  ...KERAS_ENVIRONMENT_SETTINGS,
};

export function exportCommand(): Command {
  const command = addSettings(
    new Command('export')
      .description('write a LayersModel directory (an imported or pruned model) as a Keras file, built by Keras itself')
      .argument('<dir>', 'model directory (model.json + weights)'),
    EXPORT_SETTINGS,
  );
  return command.action(async (dir: string, _options: unknown, self: Command) => {
    const settings = commandSettings(self, EXPORT_SETTINGS);
    const out = asUsage(() => required(settings, 'out'));
    const { format, json } = settings.values;
    const written = await withKeras(settings.values.kerasEnv, () => checkExportTarget(out, format), (converter) => exportKerasModel(converter, dir, out, format));
    const result = { model: dir, out, format, ...written };
    process.stdout.write(
      json
        ? `${JSON.stringify(result, null, 2)}\n`
        : `exported ${dir} to ${out} (${format === 'keras' ? 'Keras' : 'tf.keras'} ${written.kerasVersion}, .${format}): ${written.layers} layers, ${written.params} params (${formatCount(written.params)})\n`,
    );
  });
}
