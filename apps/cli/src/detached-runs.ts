import { UsageError } from './exit-codes';

/** A run's result directory is needed unless the command only submits the run (`--no-wait`, on a stack). */
export function requireOutUnlessDetached(out: string | undefined, values: { local: boolean; wait: boolean }): void {
  if (out === undefined && (values.local || values.wait)) throw new UsageError('--out <dir> is required (unless --no-wait)');
}

/** What `--no-wait` prints once the run has started: its id on stdout (JSON with --json), its UI link on stderr. */
export function printSubmitted(runId: string, ui: string | undefined, json: boolean): void {
  if (ui !== undefined && !json) process.stderr.write(`Temporal UI: ${ui}\n`);
  process.stdout.write(json ? `${JSON.stringify({ runId, ...(ui === undefined ? {} : { ui }) })}\n` : `${runId}\n`);
}

/** Ctrl-C while following a run leaves it running on the stack, and says how to collect or stop it. */
export function detachOnInterrupt(what: 'run' | 'comparison', runId: string, out: string): void {
  process.once('SIGINT', () => {
    process.stderr.write(
      `\ndetached from ${what} ${runId}; it keeps running: 'ippro watch ${runId} --out ${out}' follows it and writes its result, 'ippro cancel ${runId}' stops it\n`,
    );
    process.exit(130);
  });
}
