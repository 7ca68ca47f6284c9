import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DevServerError, TemporalCliError } from './errors';
import { findTemporalCli } from './find-cli';
import { findFreePorts } from './free-port';
import { silentLog, type LogFn } from './log';
import { describeExit, ManagedProcess, type ProcessExit } from './managed-process';
import { waitUntilServing } from './wait-until-serving';

export type DevServerLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DevServerOptions {
  /** SQLite file holding all server state; reusing it after a restart keeps workflows. Parent dirs are created. */
  dbFile: string;
  /** Defaults to findTemporalCli(). */
  cliPath?: string;
  /** Created at startup if missing. Default "default" (always exists). */
  namespace?: string;
  /** Frontend gRPC port. Default: a free port. Pass the previous server's port to restart in place. */
  port?: number;
  /** Serve the Web UI. Default false (headless). */
  ui?: boolean;
  /** Web UI port when `ui` is true. Default: a free port. */
  uiPort?: number;
  /** Default 127.0.0.1, so tests never expose a server on the network. */
  ip?: string;
  /**
   * The address the server binds, when not `ip` (which clients use): e.g. 0.0.0.0 inside a
   * network namespace, since the dev server bound to another single address cannot reach its own services.
   */
  bindIp?: string;
  /** A command that runs the CLI elsewhere and execs it, keeping its pid: e.g. `['ip', 'netns', 'exec', 'NAME']` (give `port` then). */
  launcher?: readonly string[];
  /** Server log level. Default "warn". */
  logLevel?: DevServerLogLevel;
  /** How long to wait for the frontend to answer. Default 30 s. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
  /** Extra `temporal server start-dev` flags, e.g. ["--dynamic-config-value", "KEY=VALUE"]. */
  extraArgs?: readonly string[];
  /** Receives the server's output lines and our progress messages. */
  log?: LogFn;
}

export interface DevServer {
  /** host:port for Connection.connect / NativeConnection.connect. */
  address: string;
  host: string;
  port: number;
  uiPort?: number;
  uiUrl?: string;
  namespace: string;
  dbFile: string;
  cliPath: string;
  pid: number;
  /** Resolves when the server process ends, whether through stop() or a crash. */
  exited: Promise<ProcessExit>;
  /** False once the process has ended (stopped or crashed). */
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after the grace period. The db file is kept. Idempotent. */
  stop(): Promise<void>;
}

interface LaunchPlan {
  cliPath: string;
  dbFile: string;
  host: string;
  bindIp: string;
  port: number;
  uiPort: number | undefined;
  namespace: string;
  logLevel: DevServerLogLevel;
  extraArgs: readonly string[];
  launcher: readonly string[];
}

const DEFAULT_NAMESPACE = 'default';
const LAUNCH_ATTEMPTS_WITH_CHOSEN_PORTS = 3;

/** Starts `temporal server start-dev` and resolves once it serves the namespace. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const log = options.log ?? silentLog;
  const dbFile = resolve(options.dbFile);
  await mkdir(dirname(dbFile), { recursive: true });
  const cliPath = options.cliPath ?? (await requireCliPath());
  const host = options.ip ?? '127.0.0.1';
  // Ports we pick ourselves can be stolen between probing and binding, so only those launches are retried.
  const attempts = options.port === undefined || (options.ui && options.uiPort === undefined) ? LAUNCH_ATTEMPTS_WITH_CHOSEN_PORTS : 1;

  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = await choosePorts(options, host);
    const plan: LaunchPlan = {
      cliPath,
      dbFile,
      host,
      bindIp: options.bindIp ?? host,
      port,
      uiPort,
      namespace: options.namespace ?? DEFAULT_NAMESPACE,
      logLevel: options.logLevel ?? 'warn',
      extraArgs: options.extraArgs ?? [],
      launcher: options.launcher ?? [],
    };
    try {
      return await launch(plan, options, log);
    } catch (error) {
      if (attempt >= attempts || !(error instanceof PortClashError)) throw error;
      log(`Port ${port} was taken before the server could bind it; retrying with new ports.`);
    }
  }
}

async function requireCliPath(): Promise<string> {
  const cli = await findTemporalCli();
  if (cli) return cli.path;
  throw new TemporalCliError(
    'The temporal CLI was not found (TEMPORAL_CLI_PATH, PATH, pip script directories). ' +
      'Run `npm run setup:temporal`, or pass cliPath.',
  );
}

async function choosePorts(options: DevServerOptions, host: string): Promise<[number, number | undefined]> {
  const needed = [options.port === undefined, options.ui === true && options.uiPort === undefined];
  const free = await findFreePorts(needed.filter(Boolean).length, host);
  const port = options.port ?? (free.shift() as number);
  const uiPort = options.ui ? (options.uiPort ?? free.shift()) : undefined;
  return [port, uiPort];
}

class PortClashError extends DevServerError {}

async function launch(plan: LaunchPlan, options: DevServerOptions, log: LogFn): Promise<DevServer> {
  const address = `${plan.host}:${plan.port}`;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  log(`Starting temporal dev server on ${address} (db ${plan.dbFile})`);
  const [command, ...prefix] = [...plan.launcher, plan.cliPath];
  const child = new ManagedProcess(command as string, [...prefix, ...devServerArgs(plan)], log);

  const processDied = new AbortController();
  void child.exited.then(() => processDied.abort());
  const startedAt = Date.now();
  const serving = waitUntilServing({ ...plan, timeoutMs: startTimeoutMs, signal: processDied.signal });
  // Racing the exit reports a crash at once instead of after the in-flight probe times out.
  const outcome = await Promise.race([serving, child.exited.then(() => ({ serving: false, lastError: 'process exited' }) as const)]);

  const exit = child.exitStatus;
  if (exit?.spawnError) throw new DevServerError(`could not run the temporal CLI at ${plan.cliPath} (${exit.spawnError})`);
  if (exit) throw startupFailure(`temporal dev server ${describeExit(exit)} before it answered`, child);
  if (!outcome.serving) {
    const output = child.output.snapshot(); // before stopping, which adds shutdown noise
    await child.stop(stopGraceMs);
    throw new DevServerError(
      `temporal dev server on ${address} did not answer within ${startTimeoutMs} ms (last error: ${outcome.lastError})`,
      output,
    );
  }
  log(`temporal dev server ready on ${address} after ${Date.now() - startedAt} ms (pid ${child.pid})`);
  return describeServer(plan, child, stopGraceMs);
}

function startupFailure(message: string, child: ManagedProcess): DevServerError {
  const lines = child.output.snapshot();
  const clash = child.output.some((line) => /address already in use/i.test(line));
  return clash ? new PortClashError(message, lines) : new DevServerError(message, lines);
}

function devServerArgs(plan: LaunchPlan): string[] {
  const args = ['server', 'start-dev', '--db-filename', plan.dbFile, '--ip', plan.bindIp, '--port', String(plan.port)];
  args.push('--log-level', plan.logLevel);
  args.push(...(plan.uiPort === undefined ? ['--headless'] : ['--ui-port', String(plan.uiPort)]));
  if (plan.namespace !== DEFAULT_NAMESPACE) args.push('--namespace', plan.namespace);
  return [...args, ...plan.extraArgs];
}

function describeServer(plan: LaunchPlan, child: ManagedProcess, stopGraceMs: number): DevServer {
  return {
    address: `${plan.host}:${plan.port}`,
    host: plan.host,
    port: plan.port,
    uiPort: plan.uiPort,
    uiUrl: plan.uiPort === undefined ? undefined : `http://${plan.host}:${plan.uiPort}`,
    namespace: plan.namespace,
    dbFile: plan.dbFile,
    cliPath: plan.cliPath,
    pid: child.pid as number,
    exited: child.exited,
    isRunning: () => child.exitStatus === undefined,
    stop: async () => {
      await child.stop(stopGraceMs);
    },
  };
}
