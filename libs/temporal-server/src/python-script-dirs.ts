import { runCommand } from './run-command';

/** Asks Python itself, because pip may install into the user base or into the interpreter's prefix (pyenv, venv). */
const PRINT_SCRIPT_DIRS = [
  'import os, site, sys, sysconfig',
  "print(sysconfig.get_path('scripts'))",
  "print(os.path.join(sys.prefix, 'Scripts' if os.name == 'nt' else 'bin'))",
  "print(os.path.join(site.getuserbase(), 'Scripts' if os.name == 'nt' else 'bin'))",
].join('; ');

/** Directories where `python -m pip install` puts console scripts; empty when Python is unavailable. */
export async function pythonScriptDirs(python: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const outcome = await runCommand(python, ['-c', PRINT_SCRIPT_DIRS], { timeoutMs: 15_000, env });
  if (!outcome.ok) return [];
  const dirs = outcome.stdout.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return [...new Set(dirs)];
}
