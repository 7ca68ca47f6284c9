import { rename } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { loadLayersModelFromDir } from '@ippro/graph';
import { KerasBadInput } from './errors';
import type { KerasConverter, KerasFileFormat, WrittenKerasFile } from './keras-converter';
import { checkNewFile, removeQuietly, stagingPath } from './output-paths';

export const KERAS_FILE_FORMATS: readonly KerasFileFormat[] = ['keras', 'h5'];

/** The file name endings Keras requires of each format. */
const EXTENSIONS: Readonly<Record<KerasFileFormat, readonly string[]>> = { keras: ['.keras'], h5: ['.h5', '.hdf5'] };

/**
 * Writes the LayersModel in `modelDir` as a new Keras file `outFile`: `.keras` (Keras 3) or `.h5`
 * (legacy HDF5, loaded by Keras 3 and tf.keras 2). The directory is loaded with TensorFlow.js first,
 * so a damaged model is bad input before Python runs. Needs a registered tfjs backend.
 */
export async function exportKerasModel(converter: KerasConverter, modelDir: string, outFile: string, format: KerasFileFormat): Promise<WrittenKerasFile> {
  await checkExportTarget(outFile, format);
  try {
    (await loadLayersModelFromDir(modelDir)).dispose();
  } catch (error) {
    throw new KerasBadInput(`model ${modelDir}: ${(error as Error).message}`);
  }
  const staging = stagingPath(resolve(outFile));
  try {
    const written = await converter.exportModel(resolve(modelDir), staging, format);
    await rename(staging, outFile);
    return written;
  } finally {
    await removeQuietly(staging);
  }
}

/** What an export can check without the converter: `outFile` is new, in a directory that exists, with the format's extension. */
export async function checkExportTarget(outFile: string, format: KerasFileFormat): Promise<void> {
  const extensions = EXTENSIONS[format];
  if (!extensions.includes(extname(outFile).toLowerCase())) throw new KerasBadInput(`--out ${outFile}: ${format === 'h5' ? 'an' : 'a'} ${format} file must end in ${extensions.join(' or ')}`);
  await checkNewFile(outFile);
}
