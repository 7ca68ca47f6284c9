#!/usr/bin/env node
// Makes sure the Keras converter's Python environment exists (a virtual environment with the
// packages pinned in libs/interop/python/requirements.txt) and prints its directory on stdout;
// progress goes to stderr. Idempotent: a complete environment for the current pins is kept.
//
//   node tools/ensure-keras.mjs      # exit 1 if it cannot be created
//
// Where: $IPPRO_KERAS_ENV, else ~/.cache/ippro/keras-<keras>-tf-<tensorflow>. Needs python3 with
// the venv module and the package index. Uses the built library so the rules live in one place;
// builds it first when dist is missing (CI may run this before `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const libraryEntry = join(repoRoot, 'libs/interop/dist/index.js');
const settingsEntry = join(repoRoot, 'libs/settings/dist/index.js');

function log(message) {
  process.stderr.write(`[setup:keras] ${message}\n`);
}

if (!existsSync(libraryEntry)) {
  log('libs/interop/dist is missing; building it.');
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  const built = spawnSync(tsc, ['-b', 'libs/interop/tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
  if (built.status !== 0) {
    log('Building libs/interop failed; see the compiler output above.');
    process.exit(1);
  }
}

const require = createRequire(import.meta.url);
const { KERAS_ENVIRONMENT_SETTINGS, installKerasEnvironment, pinnedVersions } = require(libraryEntry);
const { resolveSettings } = require(settingsEntry);
const { kerasEnv } = resolveSettings(KERAS_ENVIRONMENT_SETTINGS, { env: process.env }).values;
const started = Date.now();
try {
  const environment = await installKerasEnvironment({ dir: kerasEnv, log });
  const pins = pinnedVersions();
  log(`ready in ${((Date.now() - started) / 1000).toFixed(0)} s: keras ${pins.get('keras')}, tensorflow-cpu ${pins.get('tensorflow-cpu')}, tf-keras ${pins.get('tf-keras')}`);
  process.stdout.write(`${environment.dir}\n`);
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
