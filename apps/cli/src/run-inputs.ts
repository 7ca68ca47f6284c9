import { artifactKeyOf } from '@ippro/artifact-store';
import { modelLimitsOf, setModelLimits } from '@ippro/graph';
import { modelToArtifact } from '@ippro/model-artifact';
import type { ClassifierOutput } from '@ippro/models';
import { required } from '@ippro/settings';
import type { Resolved } from '@ippro/settings';
import type { DatasetRef } from '@ippro/workflow-core';
import { asBadInput, loadModel, loadModelGraph, resolveOutput } from './cli-inputs';
import { asUsage } from './command-settings';
import { datasetRefMaker } from './dataset-refs';
import type { RUN_INPUT_SETTINGS } from './run-settings';

/** A run's model and data, checked against each other, ready for its input. */
export interface RunInputs {
  modelArtifactId: string;
  /** The model's output kind, resolved from --output and the model. */
  output: ClassifierOutput;
  data: DatasetRef;
  evaluation: DatasetRef;
  tuning: DatasetRef;
  /** The model artifact first, then the datasets that travel as artifacts. */
  artifacts: Uint8Array[];
}

/**
 * Loads the model (its channel graph must build; a layer it cannot prune is kept whole with a
 * warning, or refused with --strict-layers), resolves its output kind, and opens every
 * dataset of the run against it (`prune`, `compare`, `schedule create`): any fault is bad input,
 * found before anything is written or started.
 */
export async function prepareRunInputs(settings: Resolved<typeof RUN_INPUT_SETTINGS>, run: { local: boolean; quiet: boolean }): Promise<RunInputs> {
  const values = settings.values;
  const modelDir = asUsage(() => required(settings, 'model'));
  const dataSpec = asUsage(() => required(settings, 'data'));
  // The limits every model this process builds is checked against: this one, and a local run's.
  setModelLimits(modelLimitsOf(values));
  const model = await loadModel(modelDir);
  try {
    await loadModelGraph(model, modelDir, { strict: values.strictLayers, warn: true });
    const output = await resolveOutput(model, values.output, modelDir);
    const modelBytes = await asBadInput(`model ${modelDir}`, () => modelToArtifact(model));
    const artifacts: Uint8Array[] = [modelBytes];
    const datasetRef = datasetRefMaker(
      {
        local: run.local,
        model,
        modelName: `model ${modelDir}`,
        output,
        quiet: run.quiet,
        ...(values.dataDir === undefined ? {} : { dataDir: values.dataDir }),
        ...(values.normalize === undefined ? {} : { normalize: values.normalize }),
      },
      artifacts,
    );
    const data = await datasetRef(dataSpec, settings.where('data'));
    const evaluation = values.evalData === undefined ? data : await datasetRef(values.evalData, settings.where('evalData'));
    const tuning = values.finetuneData === undefined || values.finetuneSteps === 0 ? data : await datasetRef(values.finetuneData, settings.where('finetuneData'));
    return { modelArtifactId: artifactKeyOf(modelBytes), output, data, evaluation, tuning, artifacts };
  } finally {
    model.dispose();
  }
}
