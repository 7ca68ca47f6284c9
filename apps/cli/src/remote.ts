import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { InvalidValue, TEXT, addSettingOptions, combineSets, parser, resolveSettings, setting } from '@ippro/settings';
import type { GivenFlags, Resolved } from '@ippro/settings';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, TEMPORAL_SETTINGS, connectTemporalClient, temporalTargetFrom } from '@ippro/temporal-connection';
import type { TemporalTarget } from '@ippro/temporal-connection';
import { temporalUiLink } from '@ippro/orchestration';
import { asUsage } from './command-settings';
import { UsageError } from './exit-codes';
import { STATE_DIR_SETTINGS, readDevInfo } from './stack';

/** The settings of every command that talks to a running stack: its dev.json, or Temporal and the artifact service of a cluster. */
export const REMOTE_SETTINGS = combineSets(STATE_DIR_SETTINGS, TEMPORAL_SETTINGS, {
  artifacts: setting({ parse: TEXT, placeholder: 'HOST:PORT', help: 'artifact service of the orchestrator (instead of dev.json)' }),
  uiUrl: setting({
    parse: parser('text', 'URL', (text) => {
      if (!/^https?:\/\/[^/\s]+/.test(text)) throw new InvalidValue('an http:// or https:// address');
      return text;
    }),
    env: 'IPPRO_TEMPORAL_UI',
    help: "the Temporal Web UI of the cluster (http://HOST:PORT), for the link printed with each run",
    defaultHelp: "the 'ippro dev' stack's, from dev.json",
  }),
});
export type RemoteSettingsSet = typeof REMOTE_SETTINGS;

/** The options commander gives a command with the remote settings (derived without defaults: only what was given). */
export type RemoteFlags = GivenFlags;

export interface RemoteTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  /** TLS and API key for Temporal (the address and namespace are above). */
  connection: TemporalTarget;
  /** Artifact service address (needed to upload models and download results). */
  artifacts?: string;
  /** The Temporal Web UI, when known: runs are printed with their link. */
  uiUrl?: string;
  /** Where the target came from, for messages. */
  source: string;
}

export function addRemoteFlags(command: Command): Command {
  return addSettingOptions(command, REMOTE_SETTINGS);
}

/** The remote settings of a command's options and the environment; bad input is a UsageError. */
export function remoteSettings(flags: RemoteFlags, env: NodeJS.ProcessEnv = process.env): Resolved<RemoteSettingsSet> {
  return asUsage(() => resolveSettings(REMOTE_SETTINGS, { flags, env }));
}

/**
 * The stack to talk to: --temporal (or $IPPRO_TEMPORAL_ADDRESS, or a file's key) with the other
 * Temporal settings, else the dev.json of --state-dir; UsageError when neither names a stack.
 */
export async function resolveTarget(resolved: Resolved<RemoteSettingsSet>): Promise<RemoteTarget> {
  const settings = asUsage(() => temporalTargetFrom(resolved));
  const { artifacts, uiUrl } = resolved.values;
  const { address, namespace, ...connection } = settings.target;
  if (address !== undefined) {
    return {
      address,
      namespace: namespace ?? DEFAULT_NAMESPACE,
      taskQueue: settings.taskQueue ?? DEFAULT_TASK_QUEUE,
      connection,
      ...(artifacts === undefined ? {} : { artifacts }),
      ...(uiUrl === undefined ? {} : { uiUrl }),
      source: settings.addressSource ?? '--temporal',
    };
  }
  const stateDir = resolved.values.stateDir;
  const info = await readDevInfo(stateDir);
  if (info === undefined) {
    throw new UsageError(`no running stack: ${stateDir}/dev.json does not exist; start one with 'ippro dev' or give --temporal HOST:PORT`);
  }
  return {
    address: info.temporal.address,
    namespace: namespace ?? info.temporal.namespace,
    taskQueue: settings.taskQueue ?? info.taskQueue,
    connection,
    artifacts: artifacts ?? info.artifacts,
    ...((uiUrl ?? info.temporal.uiUrl) === undefined ? {} : { uiUrl: uiUrl ?? info.temporal.uiUrl }),
    source: `${stateDir}/dev.json`,
  };
}

/** A run's page in the Temporal Web UI (without `runId`: the list of runs), when the UI's address is known. */
export function runLink(target: RemoteTarget, runId?: string): string | undefined {
  return target.uiUrl === undefined ? undefined : temporalUiLink(target.uiUrl, target.namespace, runId);
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
