#!/usr/bin/env node
// The whole test suite in one test-runner invocation: lint and build every project through Nx,
// then run every compiled test file, so one closing summary covers all of them.
// Slow fault tests (`*.faults.test.js`: real processes killed, stopped and restarted) are left
// out; `--faults` runs only them, one file at a time (npm run test:faults).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const faultsOnly = process.argv.includes('--faults');
const passedOn = process.argv.slice(2).filter((arg) => arg !== '--faults');
const FAULT_TEST = /\.faults\.test\.[cm]?js$/;

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`tests: '${[command, ...args].join(' ')}' failed`);
    process.exit(result.status ?? 1);
  }
}

function testDirectories() {
  const projectDist = (group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group)).map((name) => join(group, name, 'dist'))
      : [];
  return [...projectDist('libs'), ...projectDist('apps'), ...projectDist('tests'), 'tools/tests'].filter((dir) =>
    existsSync(join(root, dir)),
  );
}

/** Every file under `dir` (relative to the root), skipping dependencies. */
function filesUnder(dir) {
  return readdirSync(join(root, dir)).flatMap((name) => {
    if (name === 'node_modules') return [];
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * What node --test is given: a directory whole when it holds no fault test, else its test files
 * one by one without the fault tests (node --test finds `*.test.js` and the like in a directory).
 */
function quickTests() {
  return testDirectories().flatMap((dir) => {
    const files = filesUnder(dir);
    if (!files.some((file) => FAULT_TEST.test(file))) return [dir];
    return files.filter((file) => /\.test\.[cm]?js$/.test(file) && !FAULT_TEST.test(file));
  });
}

function faultTests() {
  return testDirectories().flatMap((dir) => filesUnder(dir).filter((file) => FAULT_TEST.test(file)));
}

const nx = join(root, 'node_modules', '.bin', 'nx');
run(nx, ['run-many', '-t', 'lint', 'build', '--outputStyle=static']);
if (faultsOnly) {
  const files = faultTests();
  if (files.length === 0) {
    console.error('tests: no fault tests (*.faults.test.js) found; is the build complete?');
    process.exit(1);
  }
  console.log(`tests: ${files.length} fault test files: ${files.map((file) => relative('.', file)).join(', ')}`);
  // One file at a time: each starts its own Temporal server, workers and orchestrator.
  run(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=900000', ...passedOn, ...files]);
} else {
  run(process.execPath, ['--test', '--test-timeout=600000', ...passedOn, ...quickTests()]);
}
