import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { connectTemporalClient, DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from '@ippro/orchestration';
import { UsageError } from './exit-codes';
import { DEFAULT_STATE_DIR, readDevInfo } from './stack';

/** Flags every command that talks to a running stack takes. */
export interface RemoteFlags {
  stateDir?: string;
  temporal?: string;
  namespace?: string;
  taskQueue?: string;
  artifacts?: string;
}

export interface RemoteTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Artifact service address (needed to upload models and download results). */
  artifacts?: string;
  /** Where the target came from, for messages. */
  source: string;
}

export function addRemoteFlags(command: Command): Command {
  return command
    .option('--state-dir <dir>', `state directory of a running 'ippro dev' (its dev.json names the stack)`, DEFAULT_STATE_DIR)
    .option('--temporal <host:port>', 'Temporal frontend of a cluster (instead of dev.json)')
    .option('--namespace <ns>', `Temporal namespace (default ${DEFAULT_NAMESPACE})`)
    .option('--task-queue <name>', `task queue of the orchestrator (default ${DEFAULT_TASK_QUEUE})`)
    .option('--artifacts <host:port>', 'artifact service of the orchestrator (instead of dev.json)');
}

/** --temporal/--namespace/--task-queue/--artifacts, else the dev.json of --state-dir; UsageError when neither names a stack. */
export async function resolveTarget(flags: RemoteFlags): Promise<RemoteTarget> {
  if (flags.temporal !== undefined) {
    if (!/^[^\s:]+:\d+$/.test(flags.temporal)) throw new UsageError(`--temporal must be HOST:PORT, got '${flags.temporal}'`);
    return {
      address: flags.temporal,
      namespace: flags.namespace ?? DEFAULT_NAMESPACE,
      taskQueue: flags.taskQueue ?? DEFAULT_TASK_QUEUE,
      ...(flags.artifacts === undefined ? {} : { artifacts: flags.artifacts }),
      source: '--temporal',
    };
  }
  const stateDir = flags.stateDir ?? DEFAULT_STATE_DIR;
  const info = await readDevInfo(stateDir);
  if (info === undefined) {
    throw new UsageError(`no running stack: ${stateDir}/dev.json does not exist; start one with 'ippro dev' or give --temporal HOST:PORT`);
  }
  return {
    address: info.temporal.address,
    namespace: flags.namespace ?? info.temporal.namespace,
    taskQueue: flags.taskQueue ?? info.taskQueue,
    artifacts: flags.artifacts ?? info.artifacts,
    source: `${stateDir}/dev.json`,
  };
}

/** A Temporal client, or a UsageError naming the address when Temporal does not answer within `timeoutMs`. */
export async function connectTarget(target: RemoteTarget, timeoutMs = 5_000): Promise<Client> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const client = await Promise.race([
      (async () => {
        const connected = await connectTemporalClient({ address: target.address, namespace: target.namespace });
        await connected.workflowService.getSystemInfo({});
        return connected;
      })(),
      timeout,
    ]);
    return client;
  } catch (error) {
    const message = (error as Error).message.split('\n', 1)[0] ?? '';
    throw new UsageError(`cannot reach Temporal at ${target.address} (from ${target.source}): ${message}`);
  } finally {
    clearTimeout(timer);
  }
}
