import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { probeTemporalCli } from './cli-version';
import { TemporalCliError } from './errors';
import { silentLog, type LogFn } from './log';
import { pythonScriptDirs } from './python-script-dirs';

export const CLI_PATH_ENV = 'TEMPORAL_CLI_PATH';

export type CliSource = 'env' | 'path' | 'python-scripts' | 'shim';

export interface TemporalCli {
  /** Absolute path to the executable. */
  path: string;
  /** e.g. "1.9.1" */
  version: string;
  /** Where it was found; useful in logs when several copies exist. */
  source: CliSource;
}

export interface FindCliOptions {
  /** Defaults to process.env; tests pass their own PATH / TEMPORAL_CLI_PATH. */
  env?: NodeJS.ProcessEnv;
  /** Python interpreter used to locate pip's script directories. Default "python3". */
  python?: string;
  log?: LogFn;
}

interface Candidate {
  path: string;
  source: CliSource;
}

const EXECUTABLE_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

/**
 * Locates a working `temporal` CLI: $TEMPORAL_CLI_PATH, then PATH, then pip's script
 * directories, then version-manager shims. Resolves undefined when none works; rejects
 * only when TEMPORAL_CLI_PATH is set but unusable, since an explicit setting should not be ignored.
 */
export async function findTemporalCli(options: FindCliOptions = {}): Promise<TemporalCli | undefined> {
  const env = options.env ?? process.env;
  const log = options.log ?? silentLog;
  const explicitPath = env[CLI_PATH_ENV];
  if (explicitPath) return verifyExplicitCli(resolve(explicitPath), env);

  const seen = new Set<string>();
  for await (const candidate of candidates(env, options.python ?? 'python3')) {
    const identity = await realpath(candidate.path).catch(() => candidate.path);
    if (seen.has(identity)) continue;
    seen.add(identity);
    const probe = await probeTemporalCli(candidate.path, env);
    if (probe.ok) return { path: candidate.path, version: probe.version, source: candidate.source };
    log(`Ignoring ${candidate.path}: ${probe.failure}`);
  }
  return undefined;
}

async function verifyExplicitCli(cliPath: string, env: NodeJS.ProcessEnv): Promise<TemporalCli> {
  if (!(await isExecutableFile(cliPath))) {
    throw new TemporalCliError(
      `${CLI_PATH_ENV} is set to "${cliPath}", but there is no executable file there. ` +
        `Point it at a temporal CLI binary, or unset it to search PATH and pip's bin directories.`,
    );
  }
  const probe = await probeTemporalCli(cliPath, env);
  if (!probe.ok) {
    throw new TemporalCliError(`${CLI_PATH_ENV}="${cliPath}" is not a working temporal CLI: ${probe.failure}`);
  }
  return { path: cliPath, version: probe.version, source: 'env' };
}

/** Lazily yields candidates so Python is only consulted when PATH has no real binary. */
async function* candidates(env: NodeJS.ProcessEnv, python: string): AsyncGenerator<Candidate> {
  const onPath = await executablesOnPath(env);
  for (const path of onPath.filter((p) => !isShim(p))) yield { path, source: 'path' };
  for (const dir of await pythonScriptDirs(python, env)) {
    const path = join(dir, EXECUTABLE_NAME);
    if (await isExecutableFile(path)) yield { path, source: 'python-scripts' };
  }
  for (const path of onPath.filter(isShim)) yield { path, source: 'shim' };
}

async function executablesOnPath(env: NodeJS.ProcessEnv): Promise<string[]> {
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir.length > 0);
  const found: string[] = [];
  for (const dir of dirs) {
    const path = resolve(dir, EXECUTABLE_NAME);
    if (await isExecutableFile(path)) found.push(path);
  }
  return found;
}

/**
 * Version-manager shims (pyenv, asdf) re-dispatch on every call and depend on the current
 * directory's selected version, so the real binary behind them is preferred.
 */
function isShim(path: string): boolean {
  return basename(dirname(path)) === 'shims';
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
