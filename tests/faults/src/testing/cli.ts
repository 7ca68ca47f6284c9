import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI_BIN } from './fault-stack';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `ippro` executable with only the flags given (no IPPRO_* settings from this environment). */
export function runCli(args: readonly string[]): CliResult {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('IPPRO_')));
  const result = spawnSync(process.execPath, [CLI_BIN, ...args], { encoding: 'utf8', env, timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The README's contract for bad input: exit code 2 and one `ippro: ...` line naming what is wrong. */
export function assertBadInput(result: CliResult, says: RegExp): string {
  assert.equal(result.status, 2, `exit code ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const lines = result.stderr
    .trim()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('backend: ') && !line.startsWith('(run with --help'));
  assert.equal(lines.length, 1, `one line expected:\n${result.stderr}`);
  const line = lines[0] as string;
  assert.match(line, /^(ippro: |error: )/);
  assert.match(line, says);
  return line;
}
