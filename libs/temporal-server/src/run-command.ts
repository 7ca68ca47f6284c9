import { execFile } from 'node:child_process';

export interface CommandOutcome {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Human-readable reason when `ok` is false. */
  failure?: string;
}

export interface RunCommandOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a short command to completion; never rejects, so callers can treat failure as data. */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const execOptions = { timeout: options.timeoutMs, env: options.env, encoding: 'utf8' as const, maxBuffer: 8 * 1024 * 1024 };
    execFile(file, args, execOptions, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ ok: true, stdout, stderr });
        return;
      }
      resolve({ ok: false, stdout, stderr, failure: describeFailure(error, stderr, options.timeoutMs) });
    });
  });
}

type ExecError = Error & { code?: string | number | null; killed?: boolean; signal?: NodeJS.Signals | null };

function describeFailure(error: ExecError, stderr: string, timeoutMs: number): string {
  if (error.code === 'ENOENT') return 'command not found';
  if (error.code === 'EACCES') return 'permission denied (not executable)';
  if (error.killed) return `timed out after ${timeoutMs} ms`;
  const detail = lastLines(stderr, 3);
  const status = typeof error.code === 'number' ? `exited with code ${error.code}` : error.message;
  return detail ? `${status}: ${detail}` : status;
}

export function lastLines(text: string, count: number): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  return lines.slice(-count).join(' | ');
}
