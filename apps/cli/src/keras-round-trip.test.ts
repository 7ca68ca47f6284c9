import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModelFromDir } from '@ippro/graph';
import { KerasConverter, exportKerasModel, importKerasModel } from '@ippro/interop';
import {
  kerasEnvironmentForTests,
  maxAbsDifference,
  readFloat32,
  runKerasFixtures,
} from '@ippro/interop/testing';
import type { KerasFixtureModel, KerasPredictionJob } from '@ippro/interop/testing';
import { runCli } from './testing/run-cli';

/** Max absolute difference allowed between Keras' and ippro's (tfjs') outputs on the same inputs. */
const TOLERANCE = 1e-4;
const DATA = 'synthetic:cifar?n=64&seed=1';
/**
 * PROscore, except where its gradient statistics would dominate the suite: MobileNetV2's 9,128
 * groups take PROscore about two minutes of CPU here (ippro's cost, not the conversion's).
 */
const CRITERION: Readonly<Record<string, string>> = { mobilenet_v2: 'l1' };
/**
 * Formats the converter refuses for a model, with the words of the refusal: Keras 3 cannot load a
 * MultiHeadAttention from an .h5 file (it does not resolve the value tf.keras 2 records as a call argument).
 */
const REFUSED_FORMATS: Readonly<Record<string, { format: 'h5'; message: string }>> = {
  attention: { format: 'h5', message: "layer 'attention' (MultiHeadAttention): --format h5 cannot hold it" },
};
const INPUT_SHAPE = [32, 32, 3];
const VALUES_PER_EXAMPLE = 32 * 32 * 3;

const keras = kerasEnvironmentForTests();

async function tfjsOutputs(modelDir: string, inputs: Float32Array): Promise<Float32Array> {
  const model = await loadLayersModelFromDir(modelDir);
  try {
    return tf.tidy(() => {
      const batch = tf.tensor(inputs, [inputs.length / VALUES_PER_EXAMPLE, ...INPUT_SHAPE]);
      return (model.predict(batch) as tf.Tensor).dataSync() as Float32Array;
    });
  } finally {
    model.dispose();
  }
}

function cli(args: readonly string[]): string {
  const result = runCli(args, {}, { timeoutMs: 600_000 });
  assert.equal(result.status, 0, `ippro ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

test(
  'Keras models round-trip: imported outputs equal Keras, ippro scores and prunes them, Keras reloads the exported .keras and .h5 with outputs equal to ippro\'s',
  { skip: keras.skip, timeout: 1_800_000 },
  async (t) => {
    if (keras.skip !== false) return;
    await tf.setBackend('cpu');
    const work = mkdtempSync(join(tmpdir(), 'ippro-keras-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    runKerasFixtures(keras.environment, ['build', work]);
    const models = JSON.parse(readFileSync(join(work, 'models.json'), 'utf8')) as KerasFixtureModel[];
    const inputsFile = join(work, 'inputs.f32');
    const inputs = readFloat32(inputsFile);
    const jobs: KerasPredictionJob[] = [];
    const prunedOutputs = new Map<string, Float32Array>();

    const converter = await KerasConverter.start();
    try {
      for (const model of models) {
        await t.test(`${model.name}: import, score, prune, export`, async () => {
          const imported = join(work, `${model.name}-imported`);
          const summary = await importKerasModel(converter, model.file, imported);
          assert.equal(summary.params, model.params, 'the LayersModel has the Keras model\'s parameters');
          assert.equal(summary.output.kind, 'softmax');
          const importError = maxAbsDifference(await tfjsOutputs(imported, inputs), readFloat32(model.expected));
          t.diagnostic(`${model.name}: import, max |keras - ippro| = ${importError.toExponential(2)}`);
          assert.ok(importError <= TOLERANCE, `${model.name}: imported outputs differ from Keras' by ${importError}`);

          const criterion = CRITERION[model.name] ?? 'proscore';
          const scores = JSON.parse(cli(['score', '--model', imported, '--data', DATA, '--criterion', criterion, '--batch-size', '32', '--json'])) as { rows: unknown[] };
          assert.equal(scores.rows.length, summary.prunableGroups, 'every prunable group is scored');

          const pruned = join(work, `${model.name}-pruned`);
          cli(['prune', '--local', '--model', imported, '--data', DATA, '--criterion', criterion, '--target-flops', '0.2', '--rounds', '1', '--finetune-steps', '2', '--batch-size', '16', '--out', pruned, '--json']);
          const prunedModel = await loadLayersModelFromDir(pruned);
          const prunedParams = prunedModel.countParams();
          prunedModel.dispose();
          assert.ok(prunedParams < model.params, `${model.name}: pruning kept ${prunedParams} of ${model.params} params`);
          prunedOutputs.set(model.name, await tfjsOutputs(pruned, inputs));

          for (const format of ['keras', 'h5'] as const) {
            const file = join(work, `${model.name}-pruned.${format}`);
            const refused = REFUSED_FORMATS[model.name];
            if (refused?.format === format) {
              await assert.rejects(exportKerasModel(converter, pruned, file, format), (error: Error) => error.message.includes(refused.message));
              continue;
            }
            const written = await exportKerasModel(converter, pruned, file, format);
            assert.equal(written.params, prunedParams, `the ${format} file holds the pruned model's parameters`);
            const readers = format === 'keras' ? (['keras'] as const) : (['keras', 'tf_keras'] as const);
            for (const library of readers) jobs.push({ file, library, inputs: inputsFile, out: `${file}.${library}-outputs.f32` });
          }
        });
      }
    } finally {
      await converter.close();
    }

    const jobsFile = join(work, 'predict.json');
    writeFileSync(jobsFile, JSON.stringify(jobs));
    runKerasFixtures(keras.environment, ['predict', jobsFile]);
    for (const model of models) {
      const expected = prunedOutputs.get(model.name);
      assert.ok(expected !== undefined, `${model.name} was pruned`);
      for (const job of jobs.filter((candidate) => candidate.file.startsWith(join(work, `${model.name}-pruned.`)))) {
        const error = maxAbsDifference(readFloat32(job.out), expected);
        t.diagnostic(`${model.name}: pruned, ${job.file.slice(work.length + 1)} loaded by ${job.library}, max |keras - ippro| = ${error.toExponential(2)}`);
        assert.ok(error <= TOLERANCE, `${job.file} (${job.library}) differs from ippro's pruned model by ${error}`);
      }
    }
  },
);
