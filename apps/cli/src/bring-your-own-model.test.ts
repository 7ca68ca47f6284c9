import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModelFromDir } from '@ippro/graph';
import { kerasEnvironmentForTests, maxAbsDifference, readFloat32, runKerasFixtures } from '@ippro/interop/testing';
import type { KerasFixtureModel } from '@ippro/interop/testing';
import { PNG } from 'pngjs';
import { runCli, workspaceRoot } from './testing/run-cli';

/** Max absolute difference allowed between Keras' and ippro's outputs on the same inputs. */
const TOLERANCE = 1e-4;
const DOC = join(workspaceRoot(), 'docs', 'bring-your-own-model.md');
const keras = kerasEnvironmentForTests();

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const IMAGES_PER_CLASS = 20;

/**
 * The doc's `my-images/`: a folder per class of 32x32 RGB PNGs. Each class has its own mean colour
 * under seeded noise, so that fine-tuning has something to learn.
 */
function writeImageFolder(root: string): void {
  CLASSES.forEach((name, label) => {
    mkdirSync(join(root, name), { recursive: true });
    for (let index = 0; index < IMAGES_PER_CLASS; index += 1) {
      const image = new PNG({ width: 32, height: 32 });
      let state = (label * 1009 + index * 7919 + 1) >>> 0;
      for (let p = 0; p < image.data.length; p += 1) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const channel = p % 4;
        image.data[p] = channel === 3 ? 255 : (((label * 83 + channel * 97) % 256) + (state >>> 26)) % 256;
      }
      writeFileSync(join(root, name, `${index}.png`), PNG.sync.write(image, { colorType: 2 }));
    }
  });
}

/** The `npx ippro ...` lines between the doc's command markers, split into words as a shell would (single quotes). */
function docCommands(text: string): string[][] {
  const start = text.indexOf('<!-- commands');
  const end = text.indexOf('<!-- end of commands -->');
  assert.ok(start >= 0 && end > start, `${DOC} marks its commands`);
  return text
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('npx ippro '))
    .map((line) => [...line.slice('npx ippro '.length).matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? ''));
}

test('the five commands of docs/bring-your-own-model.md run as written, and Keras loads the result with ippro\'s outputs', { skip: keras.skip, timeout: 1_200_000 }, async (t) => {
  if (keras.skip !== false) return;
  const commands = docCommands(readFileSync(DOC, 'utf8'));
  assert.deepEqual(commands.map((words) => words[0]), ['import', 'inspect', 'score', 'prune', 'export']);
  const work = mkdtempSync(join(tmpdir(), 'ippro-byom-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const fixtures = join(work, 'fixtures');
  runKerasFixtures(keras.environment, ['build', fixtures, 'resnet_style']);
  const [model] = JSON.parse(readFileSync(join(fixtures, 'models.json'), 'utf8')) as KerasFixtureModel[];
  assert.ok(model !== undefined, 'the fixture model was built');
  copyFileSync(model.file, join(work, 'my_model.keras'));
  writeImageFolder(join(work, 'my-images'));
  for (const args of commands) {
    const result = runCli(args, {}, { cwd: work, timeoutMs: 600_000 });
    assert.equal(result.status, 0, `ippro ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }

  const inputsFile = join(fixtures, 'inputs.f32');
  const inputs = readFloat32(inputsFile);
  await tf.setBackend('cpu');
  const pruned = await loadLayersModelFromDir(join(work, 'my-model-pruned'));
  const ippro = tf.tidy(() => (pruned.predict(tf.tensor(inputs, [inputs.length / 3072, 32, 32, 3])) as tf.Tensor).dataSync() as Float32Array);
  pruned.dispose();
  const out = join(work, 'keras-outputs.f32');
  writeFileSync(join(work, 'predict.json'), JSON.stringify([{ file: join(work, 'my_model_pruned.keras'), library: 'keras', inputs: inputsFile, out }]));
  runKerasFixtures(keras.environment, ['predict', join(work, 'predict.json')]);
  const error = maxAbsDifference(readFloat32(out), ippro);
  t.diagnostic(`my_model_pruned.keras in Keras against ippro's pruned model: max |difference| = ${error.toExponential(2)}`);
  assert.ok(error <= TOLERANCE, `Keras' outputs differ from ippro's by ${error}`);
});
