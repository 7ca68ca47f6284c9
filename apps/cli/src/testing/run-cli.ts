import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ROUND_TIMING_HEADERS } from '@ippro/report';
import type { RecordTable } from '@ippro/report';
import { resultWithoutTiming } from '@ippro/workflow-core';
import type { PruneWorkflowResult } from '@ippro/workflow-core';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const BIN = resolve(__dirname, '../../bin/ippro.js');

export interface RunCliOptions {
  /** The working directory; default this process's. */
  cwd?: string;
  /** Killed after this long; default two minutes. */
  timeoutMs?: number;
}

/** Runs the real `ippro` executable, as a user would, and captures what it prints. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: RunCliOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** runCli without blocking: a test whose orchestrator or workers run in its own process must keep them running meanwhile. */
export function runCliAsync(args: readonly string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** The workspace root (where nx.json is). */
export function workspaceRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no workspace root (nx.json) above the tests');
    dir = parent;
  }
  return dir;
}

/** The shared material beside the workspace (fixtures, datasets). */
export function sharedDir(): string {
  return resolve(workspaceRoot(), '..', 'shared');
}

/**
 * A run's JSON file (summary.json, report.json) apart from its recorded configuration and its
 * rounds' timings, and that configuration: two runs of the same settings in different places (--local,
 * a stack) differ only there.
 */
export function splitRun(bytes: Buffer | undefined): { result: string; config: Record<string, unknown> } {
  const { config, ...result } = JSON.parse(String(bytes)) as { config: Record<string, unknown> } & Partial<PruneWorkflowResult> & { table?: RecordTable };
  if (result.baseline !== undefined && result.history !== undefined) Object.assign(result, resultWithoutTiming(result as PruneWorkflowResult));
  if (result.table !== undefined) {
    const kept = result.table.headers.map((header, column) => (ROUND_TIMING_HEADERS.includes(header) ? -1 : column)).filter((column) => column >= 0);
    result.table = { ...result.table, headers: kept.map((column) => result.table?.headers[column] ?? ''), rows: result.table.rows.map((row) => kept.map((column) => row[column] ?? '')) };
  }
  return { result: JSON.stringify(result, null, 2), config };
}
