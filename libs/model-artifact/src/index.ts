export { ArtifactFormatError } from './artifact-format-error';
export { canonicalJson } from './canonical-json';
export {
  MODEL_ARTIFACT_MAGIC,
  MODEL_ARTIFACT_VERSION,
  modelArtifactParts,
  modelFromArtifact,
  modelToArtifact,
  packModelArtifact,
  unpackModelArtifact,
  type ModelArtifactParts,
} from './model-artifact';
export { modelArtifactFromDir, writeModelArtifactToDir } from './model-artifact-dir';
export {
  ArtifactDataset,
  DATASET_ARTIFACT_MAGIC,
  DATASET_ARTIFACT_VERSION,
  datasetFromArtifact,
  datasetToArtifact,
  type DatasetFromArtifactOptions,
} from './dataset-artifact';
