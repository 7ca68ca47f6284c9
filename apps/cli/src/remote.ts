import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, TEMPORAL_SETTINGS, TemporalTargetError, connectTemporalClient, temporalSettingsFrom } from '@ippro/temporal-connection';
import type { TemporalSettingValues, TemporalTarget } from '@ippro/temporal-connection';
import { UsageError } from './exit-codes';
import { DEFAULT_STATE_DIR, readDevInfo } from './stack';

/** Flags every command that talks to a running stack takes (the Temporal ones also from $IPPRO_TEMPORAL_*). */
export interface RemoteFlags extends TemporalSettingValues {
  stateDir?: string;
  artifacts?: string;
}

export interface RemoteTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  /** TLS and API key for Temporal (the address and namespace are above). */
  connection: TemporalTarget;
  /** Artifact service address (needed to upload models and download results). */
  artifacts?: string;
  /** Where the target came from, for messages. */
  source: string;
}

export function addRemoteFlags(command: Command): Command {
  command.option('--state-dir <dir>', `state directory of a running 'ippro dev' (its dev.json names the stack)`, DEFAULT_STATE_DIR);
  for (const spec of TEMPORAL_SETTINGS) {
    const help = spec.flag === 'temporal' ? `${spec.help} of a cluster, instead of dev.json` : spec.help;
    command.option(`--${spec.flag}${spec.value === undefined ? '' : ` <${spec.value.toLowerCase()}>`}`, `${help} ($${spec.env})`);
  }
  return command.option('--artifacts <host:port>', 'artifact service of the orchestrator (instead of dev.json)');
}

/**
 * The stack to talk to: --temporal (or $IPPRO_TEMPORAL_ADDRESS) with the other Temporal flags and
 * variables, else the dev.json of --state-dir; UsageError when neither names a stack or a setting is bad.
 */
export async function resolveTarget(flags: RemoteFlags, env: NodeJS.ProcessEnv = process.env): Promise<RemoteTarget> {
  let settings;
  try {
    settings = temporalSettingsFrom(flags, env);
  } catch (error) {
    throw error instanceof TemporalTargetError ? new UsageError(error.message) : error;
  }
  const { address, namespace, ...connection } = settings.target;
  if (address !== undefined) {
    return {
      address,
      namespace: namespace ?? DEFAULT_NAMESPACE,
      taskQueue: settings.taskQueue ?? DEFAULT_TASK_QUEUE,
      connection,
      ...(flags.artifacts === undefined ? {} : { artifacts: flags.artifacts }),
      source: settings.addressSource ?? '--temporal',
    };
  }
  const stateDir = flags.stateDir ?? DEFAULT_STATE_DIR;
  const info = await readDevInfo(stateDir);
  if (info === undefined) {
    throw new UsageError(`no running stack: ${stateDir}/dev.json does not exist; start one with 'ippro dev' or give --temporal HOST:PORT`);
  }
  return {
    address: info.temporal.address,
    namespace: namespace ?? info.temporal.namespace,
    taskQueue: settings.taskQueue ?? info.taskQueue,
    connection,
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
        const connected = await connectTemporalClient({ ...target.connection, address: target.address, namespace: target.namespace }, { connectTimeoutMs: timeoutMs });
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
