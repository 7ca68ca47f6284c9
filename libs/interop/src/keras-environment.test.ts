import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KerasBadInput } from './errors';
import { KerasConverter } from './keras-converter';
import { findKerasEnvironment, kerasEnvironmentDir, pinnedVersions, requireKerasEnvironment } from './keras-environment';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ippro-keras-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fakeInterpreter(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'bin', 'python'), '');
}

test('every package the converter runs is pinned, and the default directory names the Keras and TensorFlow pins', () => {
  const pins = pinnedVersions();
  for (const name of ['keras', 'tensorflow-cpu', 'tf-keras', 'h5py', 'numpy']) assert.match(pins.get(name) ?? '', /^\d+\.\d+/, `${name} is pinned`);
  assert.match(kerasEnvironmentDir(), new RegExp(`keras-${pins.get('keras')}-tf-${pins.get('tensorflow-cpu')}$`));
  assert.equal(kerasEnvironmentDir('/opt/keras-env'), '/opt/keras-env');
});

test('an environment is found only when complete and installed for the current pins', (t) => {
  const dir = join(scratch(t), 'env');
  assert.deepEqual(findKerasEnvironment(dir), { found: false, dir, reason: `no Python environment at ${dir}` });
  fakeInterpreter(dir);
  const unfinished = findKerasEnvironment(dir);
  assert.equal(unfinished.found, false);
  assert.match(unfinished.found ? '' : unfinished.reason, /was not completely installed/);
  writeFileSync(join(dir, 'ippro-keras.json'), JSON.stringify({ requirementsSha256: 'of other pins' }));
  const stale = findKerasEnvironment(dir);
  assert.match(stale.found ? '' : stale.reason, /holds other versions than libs\/interop\/python\/requirements.txt pins/);
});

test('without its environment the converter is bad input naming the directory and the command that installs it', async (t) => {
  const dir = join(scratch(t), 'missing');
  assert.throws(() => requireKerasEnvironment(dir), (error: unknown) => error instanceof KerasBadInput && error.message.includes(dir) && error.message.includes('npm run setup:keras'));
  await assert.rejects(KerasConverter.start({ environmentDir: dir }), KerasBadInput);
});
