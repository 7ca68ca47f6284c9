import { readFileSync } from 'node:fs';
import { ManagedProcess } from '@ippro/temporal-server';

/** A line a process printed (the `msg` of a JSON log record), with when it arrived (ms since the epoch). */
export interface TimedLine {
  at: number;
  text: string;
}

/** The message of a log line: the processes log JSON records (`{"level":..., "msg": ...}`) or plain text. */
function messageOf(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const record = JSON.parse(line) as { msg?: unknown };
    return typeof record.msg === 'string' ? record.msg : line;
  } catch {
    return line;
  }
}

/** Process ids this test process started and has not seen end: the only ones it ever signals. */
const owned = new Set<number>();
let cleanupInstalled = false;

/**
 * When the test runner stops this file (SIGTERM on a timeout, SIGINT), 'exit' handlers do not
 * run: end every process this file started, stopped ones included, before going.
 */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killOwned = (): void => {
    for (const pid of owned) {
      for (const signal of ['SIGKILL', 'SIGCONT'] as const) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
    }
    owned.clear();
  };
  process.once('exit', killOwned);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      killOwned();
      process.exit(1);
    });
  }
}

/** Registers a process started elsewhere (the Temporal dev server) for the cleanup above. */
export function own(pid: number, exited: Promise<unknown>): void {
  installCleanup();
  owned.add(pid);
  void exited.then(() => owned.delete(pid));
}

/**
 * A child process of a fault test (`node <script> ...`): libs/temporal-server's ManagedProcess,
 * with every output line kept (with its time) for assertions about what happened. A `launcher`
 * (e.g. `ip netns exec NAME`) runs it elsewhere; it must exec node, so that the pid is node's.
 */
export class OwnedProcess {
  readonly lines: TimedLine[] = [];
  readonly process: ManagedProcess;

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    launcher: readonly string[] = [],
  ) {
    const verbose = process.env['IPPRO_FAULTS_VERBOSE'] === '1';
    const [command, ...prefix] = [...launcher, process.execPath];
    this.process = new ManagedProcess(command as string, [...prefix, script, ...args], (line) => {
      const text = messageOf(line);
      this.lines.push({ at: Date.now(), text });
      if (verbose) process.stderr.write(`[${name}] ${text}\n`);
    });
    if (this.process.pid !== undefined) own(this.process.pid, this.process.exited);
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.process.exitStatus === undefined;
  }

  /** The first line matching `pattern` since the process started; rejects when it ends or `timeoutMs` pass first. */
  async waitForLine(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines) {
        const match = pattern.exec(line.text);
        if (match) return match;
      }
      const shown = this.lines.length <= 20 ? this.lines : [...this.lines.slice(0, 5), { at: 0, text: '...' }, ...this.lines.slice(-15)];
      const last = shown.map((line) => line.text).join('\n');
      if (!this.running) throw new Error(`${this.name} ended before printing a line matching ${pattern}; its output:\n${last}`);
      if (Date.now() > deadline) throw new Error(`${this.name} printed no line matching ${pattern} within ${timeoutMs} ms; its output:\n${last}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Lines matching `pattern`, in order. */
  linesMatching(pattern: RegExp): TimedLine[] {
    return this.lines.filter((line) => pattern.test(line.text));
  }

  signal(signal: NodeJS.Signals): boolean {
    return this.process.signal(signal);
  }

  /** SIGTERM (a stopped process is continued first), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    await this.process.stop(graceMs);
  }

  /** Peak resident set size in bytes (VmHWM of /proc/PID/status), while the process runs. */
  peakRssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    if (match?.[1] === undefined) throw new Error(`no VmHWM in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }
}
