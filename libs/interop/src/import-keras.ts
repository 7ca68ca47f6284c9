import { rename, rmdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildChannelGraph, describeGraph, loadLayersModelFromDir } from '@ippro/graph';
import { KerasBadInput, KerasConverterFailure } from './errors';
import type { ConvertedSource, KerasConverter } from './keras-converter';
import { modelOutput } from './output-kind';
import type { ModelOutput } from './output-kind';
import { checkNewDirectory, removeQuietly, stagingPath } from './output-paths';
import { separateHidingActivations } from './separate-activations';
import type { SeparatedActivation } from './separate-activations';

/** A Keras model turned into a LayersModel directory ippro prunes. */
export interface ImportedModel extends ConvertedSource {
  source: string;
  outDir: string;
  modelName: string;
  /** Layers of the LayersModel, its input layer included. */
  layers: number;
  params: number;
  /** One example's shape (the batch axis left out); null where the model leaves a size open. */
  inputShape: (number | null)[];
  output: ModelOutput;
  /** Channel groups ippro may remove. */
  prunableGroups: number;
  /** Fused activations made layers of their own so that ippro can score their units. */
  separatedActivations: SeparatedActivation[];
}

/**
 * Converts `source` (.keras or .h5) into the new directory `outDir`, separates the fused
 * activations ippro cannot score through (separateHidingActivations), then checks that the result
 * loads with tf.loadLayersModel and that ippro builds its channel graph; only then is the
 * directory put in place. Needs a registered tfjs backend.
 */
export async function importKerasModel(converter: KerasConverter, source: string, outDir: string): Promise<ImportedModel> {
  await checkImportTarget(source, outDir);
  const staging = stagingPath(resolve(outDir));
  try {
    const converted = await converter.importModel(resolve(source), staging);
    const separatedActivations = await failsAsConversion('ippro cannot read the converted model', () => separateHidingActivations(staging));
    const described = await describeConverted(staging);
    await rmdir(outDir).catch(() => undefined); // an empty --out directory gives way to the finished one
    await rename(staging, outDir);
    return { ...converted, ...described, separatedActivations, source, outDir };
  } finally {
    await removeQuietly(staging);
  }
}

/** What an import can check without the converter: the source exists, `outDir` is new or empty. */
export async function checkImportTarget(source: string, outDir: string): Promise<void> {
  if (!(await stat(source).then(() => true, () => false))) throw new KerasBadInput(`${source} does not exist`);
  await checkNewDirectory(outDir);
}

/** A converted model ippro cannot read is the converter's defect, not the user's input. */
async function failsAsConversion<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new KerasConverterFailure(`${what}: ${(error as Error).message}`);
  }
}

async function describeConverted(dir: string): Promise<Omit<ImportedModel, keyof ConvertedSource | 'source' | 'outDir' | 'separatedActivations'>> {
  const model = await failsAsConversion('the converted model does not load in TensorFlow.js', () => loadLayersModelFromDir(dir));
  try {
    const summary = describeGraph(buildChannelGraph(model));
    return {
      modelName: model.name,
      layers: model.layers.length,
      params: model.countParams(),
      inputShape: (model.inputs[0]?.shape ?? []).slice(1),
      output: modelOutput(model),
      prunableGroups: summary.prunableGroups,
    };
  } catch (error) {
    throw new KerasConverterFailure(`ippro cannot build the channel graph of the converted model: ${(error as Error).message}`);
  } finally {
    model.dispose();
  }
}
