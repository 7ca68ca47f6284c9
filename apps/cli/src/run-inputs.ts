import { artifactKeyOf } from '@ippro/artifact-store';
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
  /** The spec a dataset ref of this run was made from, as it was given (a ref that travels as an artifact has no spec of its own). */
  specOf(ref: DatasetRef): string;
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
    const specs = new Map<DatasetRef, string>();
    const refOf = async (spec: string, name: 'data' | 'evalData' | 'finetuneData'): Promise<DatasetRef> => {
      const ref = await datasetRef(spec, settings.where(name));
      if (!specs.has(ref)) specs.set(ref, spec);
      return ref;
    };
    const data = await refOf(dataSpec, 'data');
    const evaluation = values.evalData === undefined ? data : await refOf(values.evalData, 'evalData');
    const tuning = values.finetuneData === undefined || values.finetuneSteps === 0 ? data : await refOf(values.finetuneData, 'finetuneData');
    const specOf = (ref: DatasetRef): string => specs.get(ref) ?? ref.spec;
    return { modelArtifactId: artifactKeyOf(modelBytes), output, data, evaluation, tuning, artifacts, specOf };
  } finally {
    model.dispose();
  }
}
