import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { LineTail } from './line-tail';
import type { LogFn } from './log';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  spawnError?: string;
}

/**
 * A long-running child process we own: output is drained and tailed, exit is observable, stop
 * escalates, and a process stopped with SIGSTOP is continued so that it can end.
 */
export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  readonly output = new LineTail(20);
  private exit: ProcessExit | undefined;
  private readonly child: ChildProcess;
  // SIGTERM rather than SIGKILL: exit handlers cannot wait, and the server then still flushes its db on its own.
  private readonly killOnParentExit = (): void => {
    this.child.kill('SIGTERM');
    this.child.kill('SIGCONT');
  };

  constructor(command: string, args: readonly string[], log: LogFn) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(this.recordExit({ code, signal })));
      this.child.once('error', (error) => resolve(this.recordExit({ code: null, signal: null, spawnError: error.message })));
    });
    // A server left behind by a crashed test run would keep the db file locked and the port taken.
    process.once('exit', this.killOnParentExit);
    this.follow(this.child.stdout, log);
    this.follow(this.child.stderr, log);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exitStatus(): ProcessExit | undefined {
    return this.exit;
  }

  /** Sends a signal (e.g. SIGKILL, SIGSTOP, SIGCONT) unless the process has ended; false when it had. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.exit) return false;
    return this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the process outlives `graceMs`. Safe to call more than once. */
  async stop(graceMs: number): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    // A stopped process keeps a pending SIGTERM until it runs again.
    this.child.kill('SIGCONT');
    const graceful = await Promise.race([this.exited, delay(graceMs, undefined, { ref: false })]);
    if (graceful) return graceful;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private recordExit(exit: ProcessExit): ProcessExit {
    this.exit ??= exit;
    process.removeListener('exit', this.killOnParentExit);
    return this.exit;
  }

  private follow(stream: Readable | null, log: LogFn): void {
    if (!stream) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      this.output.push(line);
      log(line);
    });
  }
}

export function describeExit(exit: ProcessExit): string {
  if (exit.spawnError) return `could not be started (${exit.spawnError})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
