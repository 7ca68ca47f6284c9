import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** What `ippro dev` writes to `<state dir>/dev.json` (the fields the benchmark reads). */
export interface DevStackInfo {
  temporal: { address: string; namespace: string };
  taskQueue: string;
  artifacts: string;
  workers: string[];
}

export interface RunningStack {
  info: DevStackInfo;
  log: string;
  stop(): Promise<void>;
}

/**
 * The embedded stack as users start it: `ippro dev` (Temporal dev server, artifact service,
 * `workers` worker processes, the orchestrator) in a child process, stopped with Ctrl-C (SIGINT).
 */
export async function startDevStack(options: { cli: string; stateDir: string; workers: number; backend: string; dataDir: string }): Promise<RunningStack> {
  rmSync(options.stateDir, { recursive: true, force: true });
  const log = `${options.stateDir}.log`;
  const fd = openSync(log, 'w');
  const args = [options.cli, 'dev', '--state-dir', options.stateDir, '--workers', String(options.workers), '--backend', options.backend, '--data-dir', options.dataDir, '--no-ui'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const infoFile = join(options.stateDir, 'dev.json');
  const deadline = Date.now() + 180_000;
  while (!existsSync(infoFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ippro dev did not start:\n${readFileSync(log, 'utf8')}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as DevStackInfo;
  return {
    info,
    log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
