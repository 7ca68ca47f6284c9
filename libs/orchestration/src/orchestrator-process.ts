import { parseArgs } from 'node:util';
import { initRuntime, parseBackendRequest } from '@ippro/runtime';
import type { BackendRequest } from '@ippro/runtime';
import { startOrchestrator, writeWorkflowBundle } from './orchestrator';
import type { OrchestratorOptions } from './orchestrator';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS } from './temporal-connection';

export const ORCHESTRATOR_USAGE = `Usage: ippro-orchestrator [flags]

Runs the Temporal worker of the pruneModel workflow and its activities until SIGINT/SIGTERM.

  --address HOST:PORT      Temporal frontend ($TEMPORAL_ADDRESS, default ${DEFAULT_TEMPORAL_ADDRESS})
  --namespace NAME         ($TEMPORAL_NAMESPACE, default ${DEFAULT_NAMESPACE})
  --task-queue NAME        ($IPPRO_TASK_QUEUE, default ${DEFAULT_TASK_QUEUE})
  --tls                    TLS with the system roots
  --tls-ca FILE            TLS: the server's CA (PEM)
  --tls-cert FILE          mutual TLS: client certificate (PEM), with --tls-key
  --tls-key FILE           mutual TLS: client key (PEM)
  --tls-server-name NAME   TLS: expected server name
  --api-key KEY            Temporal Cloud API key ($TEMPORAL_API_KEY; implies TLS)
  --artifacts DIR          the artifact store ($IPPRO_ARTIFACTS_DIR, required)
  --cifar10-dir DIR        CIFAR-10 files for datasets this process opens
  --backend NAME           tfjs backend for in-process compute: auto, tensorflow-gpu, tensorflow, wasm, cpu (default auto)
  --workflow-bundle FILE   pre-bundled workflow code (production); default: bundle at start
  --write-bundle FILE      write the workflow bundle to FILE and exit
  --max-activities N       activities at once (default 8)
`;

export class OrchestratorUsageError extends Error {
  override readonly name = 'OrchestratorUsageError';
}

export interface OrchestratorProcessOptions {
  orchestrator: OrchestratorOptions;
  backend: BackendRequest;
  writeBundle?: string;
}

/** Flags (and their environment variables) → options. Throws OrchestratorUsageError naming the bad flag. */
export function parseOrchestratorArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): OrchestratorProcessOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        address: { type: 'string' },
        namespace: { type: 'string' },
        'task-queue': { type: 'string' },
        tls: { type: 'boolean' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-server-name': { type: 'string' },
        'api-key': { type: 'string' },
        artifacts: { type: 'string' },
        'cifar10-dir': { type: 'string' },
        backend: { type: 'string' },
        'workflow-bundle': { type: 'string' },
        'write-bundle': { type: 'string' },
        'max-activities': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new OrchestratorUsageError((error as Error).message);
  }
  let backend: BackendRequest;
  try {
    backend = parseBackendRequest(values.backend ?? 'auto');
  } catch (error) {
    throw new OrchestratorUsageError(`--backend: ${(error as Error).message}`);
  }
  const writeBundle = values['write-bundle'];
  const artifacts = values.artifacts ?? env['IPPRO_ARTIFACTS_DIR'];
  if (artifacts === undefined && writeBundle === undefined) throw new OrchestratorUsageError('--artifacts DIR (or $IPPRO_ARTIFACTS_DIR) is required');
  let maxConcurrentActivities: number | undefined;
  if (values['max-activities'] !== undefined) {
    maxConcurrentActivities = Number(values['max-activities']);
    if (!Number.isInteger(maxConcurrentActivities) || maxConcurrentActivities < 1) {
      throw new OrchestratorUsageError(`--max-activities must be a positive integer, got '${values['max-activities']}'`);
    }
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new OrchestratorUsageError('--tls-cert and --tls-key go together');
  const tlsFiles = {
    ...(values['tls-ca'] === undefined ? {} : { serverCaFile: values['tls-ca'] }),
    ...(values['tls-cert'] === undefined ? {} : { clientCertFile: values['tls-cert'] }),
    ...(values['tls-key'] === undefined ? {} : { clientKeyFile: values['tls-key'] }),
    ...(values['tls-server-name'] === undefined ? {} : { serverNameOverride: values['tls-server-name'] }),
  };
  const apiKey = values['api-key'] ?? env['TEMPORAL_API_KEY'];
  const tls = Object.keys(tlsFiles).length > 0 ? tlsFiles : values.tls === true ? true : undefined;
  const orchestrator: OrchestratorOptions = {
    address: values.address ?? env['TEMPORAL_ADDRESS'] ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: values.namespace ?? env['TEMPORAL_NAMESPACE'] ?? DEFAULT_NAMESPACE,
    taskQueue: values['task-queue'] ?? env['IPPRO_TASK_QUEUE'] ?? DEFAULT_TASK_QUEUE,
    artifacts: artifacts ?? '',
    ...(tls === undefined ? {} : { tls }),
    ...(apiKey === undefined || apiKey === '' ? {} : { apiKey }),
    ...(values['cifar10-dir'] === undefined ? {} : { cifar10Dir: values['cifar10-dir'] }),
    ...(values['workflow-bundle'] === undefined ? {} : { workflowBundlePath: values['workflow-bundle'] }),
    ...(maxConcurrentActivities === undefined ? {} : { maxConcurrentActivities }),
  };
  return { orchestrator, backend, ...(writeBundle === undefined ? {} : { writeBundle }) };
}

/** The orchestrator process: runs until SIGINT/SIGTERM (the SDK shuts the worker down gracefully), then returns 0. */
export async function runOrchestratorProcess(options: OrchestratorProcessOptions, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<number> {
  if (options.writeBundle !== undefined) {
    log(`wrote the workflow bundle to ${await writeWorkflowBundle(options.writeBundle)}`);
    return 0;
  }
  const runtime = await initRuntime({ backend: options.backend });
  log(`tfjs backend: ${runtime.summary}`);
  const handle = await startOrchestrator(options.orchestrator);
  log(`orchestrator: task queue '${handle.taskQueue}' on ${handle.address} (namespace '${handle.namespace}'), artifacts in ${handle.store.root}`);
  await handle.finished;
  return 0;
}
