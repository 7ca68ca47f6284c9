import { runCommand } from './run-command';

export type CliProbe = { ok: true; version: string } | { ok: false; failure: string };

const VERSION_LINE = /^temporal version (\S+)/m;

/**
 * Runs `<path> --version` and checks the answer looks like the Temporal CLI, because
 * an unrelated program called `temporal` on PATH would otherwise be picked up.
 */
export async function probeTemporalCli(cliPath: string, env: NodeJS.ProcessEnv = process.env): Promise<CliProbe> {
  const outcome = await runCommand(cliPath, ['--version'], { timeoutMs: 15_000, env });
  if (!outcome.ok) return { ok: false, failure: outcome.failure ?? 'failed' };
  const match = VERSION_LINE.exec(outcome.stdout);
  if (!match?.[1]) return { ok: false, failure: `unexpected --version output: ${JSON.stringify(outcome.stdout.trim().slice(0, 200))}` };
  return { ok: true, version: match[1] };
}
