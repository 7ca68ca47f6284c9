#!/usr/bin/env node
// The whole test suite in one test-runner invocation: lint and build every project through Nx,
// then run every compiled test file, so one closing summary covers all of them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

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
  return [...projectDist('libs'), ...projectDist('apps'), 'tools/tests'].filter((dir) =>
    existsSync(join(root, dir)),
  );
}

const nx = join(root, 'node_modules', '.bin', 'nx');
run(nx, ['run-many', '-t', 'lint', 'build', '--outputStyle=static']);
run(process.execPath, [
  '--test',
  '--test-timeout=600000',
  ...process.argv.slice(2),
  ...testDirectories(),
]);
