import { resolve } from 'node:path';
import { parseWorkerPool } from '@ippro/activities';
import { STORE_SETTINGS, storeSettingsOf } from '@ippro/artifact-store';
import { ARTIFACT_SERVICE_SETTINGS, INSECURE_SETTINGS, clientTlsOf, clientTlsSettings, serverTlsOf, serverTlsSettings } from '@ippro/protocol';
import { DEFAULT_WORKER_PORT } from '@ippro/compute';
import { MODEL_LIMIT_SETTINGS, modelLimitsOf } from '@ippro/graph';
import { BACKEND_SETTINGS } from '@ippro/runtime';
import { POSITIVE_INTEGER, SettingsError, TEXT, combineSets, hostPort, listOf, parser, port, setting } from '@ippro/settings';
import type { Resolved } from '@ippro/settings';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS, TEMPORAL_SETTINGS, temporalTargetFrom } from '@ippro/temporal-connection';
import type { OrchestratorOptions } from './orchestrator';
import type { OrchestratorDefaults, OrchestratorProcessOptions } from './orchestrator-process';
import { checkWorkflowBundle } from './workflow-bundle';

/** Where the orchestrator serves its artifact store to the workers by default when it has workers. */
export const DEFAULT_ARTIFACTS_LISTEN = '0.0.0.0:7070';

const listen = hostPort(true, 'HOST:PORT (port 0: a free one)');

/** The settings of `ippro-orchestrator`, in the groups its usage shows. */
export const ORCHESTRATOR_SETTING_GROUPS = {
  temporal: {
    title: `Temporal (default ${DEFAULT_TEMPORAL_ADDRESS}, namespace ${DEFAULT_NAMESPACE}, task queue ${DEFAULT_TASK_QUEUE})`,
    set: { ...TEMPORAL_SETTINGS, address: setting({ parse: hostPort(false), help: 'the same as --temporal' }) },
  },
  compute: {
    title: 'Artifacts and compute',
    set: {
      artifacts: setting({ parse: TEXT, placeholder: 'DIR', help: 'the artifact store (required unless --store)', env: 'IPPRO_ARTIFACTS_DIR' }),
      ...STORE_SETTINGS,
      workers: setting({
        parse: TEXT,
        placeholder: 'POOL',
        help: `compute workers: host:port[,host:port...] or dns:NAME[:PORT] (port ${DEFAULT_WORKER_PORT}), re-resolved as the name changes`,
        defaultHelp: 'compute in this process',
        env: 'IPPRO_WORKERS',
      }),
      serveArtifacts: setting({
        // The empty text serves nothing, even with --workers.
        parse: parser('text', 'HOST:PORT', (text) => (text === '' ? '' : listen.parse(text))),
        help: 'serve the store to the workers; start the workers with --artifacts pointing here',
        defaultHelp: `${DEFAULT_ARTIFACTS_LISTEN} with --workers and --artifacts DIR; nothing with --store (the workers read the bucket)`,
        env: 'IPPRO_SERVE_ARTIFACTS',
      }),
      ...serverTlsSettings('artifacts', 'the artifact store'),
      ...ARTIFACT_SERVICE_SETTINGS,
      ...clientTlsSettings('workers', 'the workers'),
      ...INSECURE_SETTINGS,
      ...MODEL_LIMIT_SETTINGS,
      cifar10Dir: setting({ parse: TEXT, placeholder: 'DIR', help: 'CIFAR-10 files, only for in-process compute (shard plans need no dataset files)' }),
      ...BACKEND_SETTINGS,
    },
  },
  schedules: {
    title: 'Scheduled runs',
    set: {
      scheduleDirs: setting({
        parse: listOf(TEXT),
        placeholder: 'DIR[,DIR]',
        help: 'directories scheduled runs may read models from and write results to',
        defaultHelp: 'none: scheduled runs are refused',
        env: 'IPPRO_SCHEDULE_DIRS',
      }),
    },
  },
  code: {
    title: 'Workflow code, limits, metrics (logs are JSON lines on stderr, $IPPRO_LOG_LEVEL, default info)',
    set: {
      workflowBundle: setting({
        parse: TEXT,
        placeholder: 'FILE',
        help: 'pre-built workflow bundle',
        defaultHelp: 'the bundle built next to this program (npm run bundle:workflows) when it matches the installed workflow code, else the code is bundled at start',
      }),
      writeBundle: setting({ parse: TEXT, placeholder: 'FILE', help: 'write the workflow bundle (and FILE.json, naming its code) to FILE and exit' }),
      maxActivities: setting({ parse: POSITIVE_INTEGER, help: 'activities at once', defaultHelp: '8' }),
      metricsPort: setting({ parse: port(true), help: 'serve Prometheus metrics at http://0.0.0.0:N/metrics and /healthz (0: a free port)', env: 'IPPRO_METRICS_PORT' }),
    },
  },
};

const groups = ORCHESTRATOR_SETTING_GROUPS;
export const ORCHESTRATOR_SETTINGS = combineSets(groups.temporal.set, groups.compute.set, groups.schedules.set, groups.code.set);
export type OrchestratorSettingsSet = typeof ORCHESTRATOR_SETTINGS;

/** `dns:NAME` without a port gets the workers' default one; the pool is checked. */
function workerPool(text: string, where: string): string {
  const spec = /^dns:[^:]+$/.test(text.trim()) ? `${text.trim()}:${DEFAULT_WORKER_PORT}` : text;
  try {
    parseWorkerPool(spec);
  } catch (error) {
    throw new SettingsError(`${where}: ${(error as Error).message}`);
  }
  return spec;
}

/** The explicit bundle must match the installed workflow code; the default one is used only when it does. */
function workflowCode(explicit: string | undefined, defaults: OrchestratorDefaults): { bundle?: string; description: string } {
  if (explicit !== undefined) {
    const check = checkWorkflowBundle(explicit);
    if (!check.usable) throw new SettingsError(`--workflow-bundle: ${check.reason}`);
    return { bundle: explicit, description: `pre-built bundle ${check.note}` };
  }
  if (defaults.workflowBundle === undefined) return { description: 'bundled at start' };
  const check = checkWorkflowBundle(defaults.workflowBundle);
  if (check.usable) return { bundle: defaults.workflowBundle, description: `pre-built bundle ${check.note}` };
  return { description: `bundled at start (${check.reason})` };
}

const named = (kind: string): boolean => kind === 'flag' || kind === 'file';

/** The orchestrator process's options from its resolved settings; SettingsError names the setting at fault. */
export function orchestratorProcessOptionsFrom(resolved: Resolved<OrchestratorSettingsSet>, defaults: OrchestratorDefaults = {}): OrchestratorProcessOptions {
  const values = resolved.values;
  if (values.writeBundle !== undefined) return { orchestrator: { artifacts: '' }, backend: values.backend, writeBundle: values.writeBundle, workflowCode: 'written' };
  const settings = temporalTargetFrom(resolved);
  // --address is the older name of --temporal: it wins over the variable, never over --temporal.
  const address = !named(resolved.origin('temporal').kind) && values.address !== undefined ? values.address : settings.target.address;
  const store = storeSettingsOf(resolved);
  if (store !== undefined && named(resolved.origin('artifacts').kind)) throw new SettingsError('give --artifacts DIR or --store URL, not both');
  const artifacts = values.artifacts ?? (store === undefined ? undefined : '');
  if (artifacts === undefined || (artifacts === '' && store === undefined)) throw new SettingsError('--artifacts DIR (or $IPPRO_ARTIFACTS_DIR) or --store URL is required');
  const workers = values.workers === undefined ? undefined : workerPool(values.workers, resolved.where('workers'));
  // With a shared bucket the workers need no artifact service: serving the store would only open a port.
  const serveText = values.serveArtifacts ?? (workers === undefined || store !== undefined ? undefined : DEFAULT_ARTIFACTS_LISTEN);
  const serveArtifacts = serveText === '' ? undefined : serveText;
  const code = workflowCode(values.workflowBundle, defaults);
  const workersTls = clientTlsOf(resolved, 'workers');
  const artifactsTls = serverTlsOf(resolved, 'artifacts');
  const orchestrator: OrchestratorOptions = {
    ...settings.target,
    ...(address === undefined ? {} : { address }),
    ...(settings.taskQueue === undefined ? {} : { taskQueue: settings.taskQueue }),
    artifacts,
    scheduleDirs: (values.scheduleDirs ?? []).map((dir) => resolve(dir)),
    ...(values.cifar10Dir === undefined ? {} : { cifar10Dir: values.cifar10Dir }),
    ...(code.bundle === undefined ? {} : { workflowBundlePath: code.bundle }),
    ...(values.maxActivities === undefined ? {} : { maxConcurrentActivities: values.maxActivities }),
  };
  return {
    orchestrator,
    backend: values.backend,
    workflowCode: code.description,
    ...(workers === undefined ? {} : { workers }),
    ...(workersTls === undefined ? {} : { workersTls }),
    ...(serveArtifacts === undefined ? {} : { serveArtifacts, maxArtifactBytes: values.maxArtifactBytes, ...(values.maxStoreBytes === undefined ? {} : { maxStoreBytes: values.maxStoreBytes }) }),
    ...(artifactsTls === undefined ? {} : { artifactsTls }),
    ...(store === undefined ? {} : { store }),
    ...(values.metricsPort === undefined ? {} : { metricsPort: values.metricsPort }),
    insecure: values.insecure,
    modelLimits: modelLimitsOf(values),
  };
}
