import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLayersModelFromDir } from '@ippro/graph';
import { modelToArtifact, unpackModelArtifact } from './model-artifact';

/** The artifact bytes of the model saved in a directory (model.json + weights files). */
export async function modelArtifactFromDir(dir: string): Promise<Buffer> {
  const model = await loadLayersModelFromDir(dir);
  try {
    return modelToArtifact(model);
  } finally {
    model.dispose();
  }
}

/** Unpacks a model artifact into a directory as model.json + weights.bin (a standard tfjs model). */
export function writeModelArtifactToDir(bytes: Uint8Array, dir: string): void {
  const { modelJson, weights } = unpackModelArtifact(bytes);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), weights);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
}
