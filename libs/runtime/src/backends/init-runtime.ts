import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, RuntimeInitError } from './backend-names';
import type { BackendName, BackendRequest } from './backend-names';
import { defaultBackendLoaders, TFJS_BACKEND_OF } from './backend-loaders';
import type { BackendLoaders } from './backend-loaders';

export interface RuntimeOptions {
  /** Which backend to use; `auto` (the default) takes the fastest one that loads. */
  backend?: BackendRequest;
  /** Receives the one-line report of what was chosen and why. */
  report?: (line: string) => void;
  /** Replaces how each backend is loaded; for tests of the selection itself. */
  loaders?: BackendLoaders;
}

export interface RuntimeInfo {
  backend: BackendName;
  /** The name tfjs-core knows the active backend by (`tf.getBackend()`). */
  tfjsBackend: string;
  /** One line: what was chosen and why the faster ones were passed over. */
  summary: string;
}

let active: RuntimeInfo | undefined;

/**
 * Initialises TensorFlow.js once per process. tfjs keeps one active backend per process,
 * so a second call must ask for the same backend (or `auto`) and gets the first answer.
 */
export async function initRuntime(options: RuntimeOptions = {}): Promise<RuntimeInfo> {
  const request = options.backend ?? 'auto';
  if (active !== undefined) return reuseActive(active, request);
  const loaders = options.loaders ?? defaultBackendLoaders;
  // Production mode: no debug checks and no console banners from tfjs itself.
  tf.enableProdMode();
  const info =
    request === 'auto' ? await chooseAutomatically(loaders) : await loadNamed(request, loaders);
  options.report?.(info.summary);
  if (options.loaders === undefined) active = info;
  return info;
}

function reuseActive(current: RuntimeInfo, request: BackendRequest): RuntimeInfo {
  if (request !== 'auto' && request !== current.backend) {
    throw new RuntimeInitError(
      `backend '${request}' requested, but this process already runs on '${current.backend}'`,
    );
  }
  return current;
}

async function chooseAutomatically(loaders: BackendLoaders): Promise<RuntimeInfo> {
  const passedOver: string[] = [];
  for (const backend of BACKEND_NAMES) {
    const outcome = await loaders[backend]();
    if (outcome.ok) {
      const why = passedOver.length > 0 ? `; ${passedOver.join('; ')}` : '';
      return describe(backend, `auto chose ${backend}: ${outcome.detail}${why}`);
    }
    passedOver.push(`${backend} skipped: ${outcome.why}`);
  }
  throw new RuntimeInitError(`no backend could start: ${passedOver.join('; ')}`);
}

async function loadNamed(backend: BackendName, loaders: BackendLoaders): Promise<RuntimeInfo> {
  const outcome = await loaders[backend]();
  if (!outcome.ok) {
    throw new RuntimeInitError(`backend '${backend}' cannot be used: ${outcome.why}`);
  }
  return describe(backend, `using ${backend} as requested: ${outcome.detail}`);
}

function describe(backend: BackendName, summary: string): RuntimeInfo {
  return { backend, tfjsBackend: TFJS_BACKEND_OF[backend], summary: `backend: ${summary}` };
}

/** The backend this process runs on, or undefined before `initRuntime`. */
export function activeRuntime(): RuntimeInfo | undefined {
  return active;
}
