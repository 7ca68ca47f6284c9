import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One timed step a server ran: wall and process CPU time. */
export interface StepTime {
  ms: number;
  cpuMs: number;
}

export type StepKind = 'forward' | 'train';

/** Marks the lines of a tfjs step server's stdout that carry its protocol (other output may be logs). */
export const SERVE_PREFIX = 'step-server ';

/**
 * A child process that runs one benchmark step per request ('forward' or 'train' on a
 * line of stdin) and answers each with a JSON line: the PyTorch peer's --serve mode and
 * the tfjs native child's. Lets the parent alternate single steps of two frameworks so
 * that both see the same load from other jobs on a shared machine.
 */
export class StepServer {
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly prefix: string,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.receive(line));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    child.on('exit', () => this.waiting.splice(0).forEach((resolve) => resolve('')));
  }

  /** Starts the server and waits for its ready line (after its own warm-up). */
  static async start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, prefix = ''): Promise<StepServer> {
    const server = new StepServer(name, spawn(command, args, { env }), prefix);
    const ready = await server.nextLine();
    if (!ready.includes('"ready"')) throw new Error(`${name} did not start: ${server.lastError()}`);
    return server;
  }

  async run(step: StepKind): Promise<StepTime> {
    const answer = this.nextLine();
    this.child.stdin.write(`${step}\n`);
    const line = await answer;
    const parsed = line === '' ? undefined : (JSON.parse(line) as { ms?: number; cpu_ms?: number; error?: string });
    if (parsed?.ms === undefined) throw new Error(`${this.name} failed on '${step}': ${parsed?.error ?? this.lastError()}`);
    return { ms: parsed.ms, cpuMs: parsed.cpu_ms ?? NaN };
  }

  close(): void {
    this.child.stdin.end('quit\n');
  }

  private nextLine(): Promise<string> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private receive(line: string): void {
    if (!line.startsWith(this.prefix)) return;
    this.waiting.shift()?.(line.slice(this.prefix.length));
  }

  private lastError(): string {
    return this.stderr.trim().split('\n').pop() ?? `exit code ${this.child.exitCode}`;
  }
}
