import { storeBytes } from '@ippro/artifact-store';
import type { ArtifactStorage } from '@ippro/artifact-store';
import { modelFromArtifact, modelToArtifact } from '@ippro/model-artifact';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Stores a model as an artifact (@ippro/model-artifact) and returns its id (sha256). */
export function putModel(store: ArtifactStorage, model: LayersModel): Promise<string> {
  return storeBytes(store, modelToArtifact(model));
}

/** Builds the model an artifact holds; the caller disposes it. */
export async function getModel(store: ArtifactStorage, id: string): Promise<LayersModel> {
  return modelFromArtifact(await store.get(id));
}
