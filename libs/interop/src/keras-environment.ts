import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { KerasBadInput } from './errors';

/** The converter's Python package and its pinned requirements, shipped beside dist/. */
export const CONVERTER_DIR = join(__dirname, '..', 'python');
export const REQUIREMENTS_FILE = join(CONVERTER_DIR, 'requirements.txt');
export const KERAS_SETUP_COMMAND = 'npm run setup:keras';
/** Written last by the install: an environment without it (or for other requirements) is not used. */
const MARKER_FILE = 'ippro-keras.json';

export interface KerasEnvironment {
  dir: string;
  python: string;
}

export type FindKerasOutcome = { found: true; environment: KerasEnvironment } | { found: false; dir: string; reason: string };

/** Package -> version, from requirements.txt (names normalised as pip does: lower case, '-'). */
export function pinnedVersions(): ReadonlyMap<string, string> {
  const pins = new Map<string, string>();
  for (const line of readFileSync(REQUIREMENTS_FILE, 'utf8').split('\n')) {
    const [name, version] = (line.split('#', 1)[0] ?? '').split('==').map((part) => part.trim());
    if (name && version) pins.set(name.toLowerCase().replace(/_/g, '-'), version);
  }
  return pins;
}

function requirementsDigest(): string {
  return createHash('sha256').update(readFileSync(REQUIREMENTS_FILE)).digest('hex');
}

/** The environment's directory: the one given (IPPRO_KERAS_ENV), else one per pinned Keras and TensorFlow in the user's cache. */
export function kerasEnvironmentDir(given?: string): string {
  if (given !== undefined) return given;
  const pins = pinnedVersions();
  return join(homedir(), '.cache', 'ippro', `keras-${pins.get('keras')}-tf-${pins.get('tensorflow-cpu')}`);
}

export function findKerasEnvironment(given?: string): FindKerasOutcome {
  const dir = kerasEnvironmentDir(given);
  const python = join(dir, 'bin', 'python');
  if (!existsSync(python)) return { found: false, dir, reason: `no Python environment at ${dir}` };
  let marker: { requirementsSha256?: unknown };
  try {
    marker = JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8')) as { requirementsSha256?: unknown };
  } catch {
    return { found: false, dir, reason: `the environment at ${dir} was not completely installed` };
  }
  if (marker.requirementsSha256 !== requirementsDigest()) return { found: false, dir, reason: `the environment at ${dir} holds other versions than libs/interop/python/requirements.txt pins` };
  return { found: true, environment: { dir, python } };
}

/** The environment, or bad input saying which command installs it. */
export function requireKerasEnvironment(given?: string): KerasEnvironment {
  const outcome = findKerasEnvironment(given);
  if (!outcome.found) throw new KerasBadInput(`the Keras converter's Python environment is missing (${outcome.reason}): run ${KERAS_SETUP_COMMAND}`);
  return outcome.environment;
}

export interface InstallKerasOptions {
  dir?: string;
  /** The interpreter the environment is made from; default python3. */
  python?: string;
  log?: (line: string) => void;
}

/**
 * Creates the environment: `python3 -m venv DIR`, then every pinned package of requirements.txt
 * (`pip install --no-deps --only-binary=:all:`, so nothing unpinned comes along and nothing is
 * compiled), then checks that Keras, tf-keras and h5py import, and writes the marker last.
 * An existing environment that is incomplete or for other pins is replaced.
 */
export async function installKerasEnvironment(options: InstallKerasOptions = {}): Promise<KerasEnvironment> {
  const log = options.log ?? (() => undefined);
  const existing = findKerasEnvironment(options.dir);
  if (existing.found) return existing.environment;
  const dir = existing.dir;
  const python = join(dir, 'bin', 'python');
  log(`creating ${dir} (${existing.reason})`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await runStep(log, options.python ?? 'python3', ['-m', 'venv', dir]);
  await runStep(log, python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--no-deps', '--only-binary=:all:', '-r', REQUIREMENTS_FILE]);
  await runStep(log, python, ['-c', 'import keras, tf_keras, h5py; print("keras", keras.__version__, "tf_keras", tf_keras.__version__)'], { KERAS_BACKEND: 'tensorflow', TF_CPP_MIN_LOG_LEVEL: '3' });
  const marker = { requirementsSha256: requirementsDigest(), versions: Object.fromEntries(pinnedVersions()), installedAt: new Date().toISOString() };
  await writeFile(join(dir, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
  return { dir, python };
}

function runStep(log: (line: string) => void, command: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
  log(`$ ${[command, ...args].join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv } });
    const output: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) {
        const printed = lastLines(output.join(''), 1);
        if (printed) log(printed);
        resolve();
      } else reject(new Error(`${command} ${args.slice(0, 3).join(' ')} exited with code ${code}: ${lastLines(output.join(''), 3)}`));
    });
  });
}

export function lastLines(text: string, count: number): string {
  return text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0).slice(-count).join(' | ');
}
