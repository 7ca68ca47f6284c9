export { KerasBadInput, KerasConverterFailure } from './errors';
export { KERAS_ENVIRONMENT_SETTINGS } from './keras-settings';
export {
  CONVERTER_DIR,
  KERAS_SETUP_COMMAND,
  REQUIREMENTS_FILE,
  findKerasEnvironment,
  installKerasEnvironment,
  kerasEnvironmentDir,
  pinnedVersions,
  requireKerasEnvironment,
  type FindKerasOutcome,
  type InstallKerasOptions,
  type KerasEnvironment,
} from './keras-environment';
export { KerasConverter, withKerasConverter, type ConvertedSource, type KerasConverterOptions, type KerasFileFormat, type WrittenKerasFile } from './keras-converter';
export { checkImportTarget, importKerasModel, type ImportedModel } from './import-keras';
export { KERAS_FILE_FORMATS, checkExportTarget, exportKerasModel } from './export-keras';
export { modelOutput, type ModelOutput, type OutputKind } from './output-kind';
export { separateHidingActivations, type SeparatedActivation } from './separate-activations';
