import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, RuntimeInitError } from './backend-names';
import type { BackendName, BackendRequest } from './backend-names';
import { defaultBackendLoaders, INTRA_OP_THREADS, TFJS_BACKEND_OF, threadCountIn } from './backend-loaders';
import type { BackendLoaders } from './backend-loaders';

export interface RuntimeOptions {
  /** Which backend to use; `auto` (the default) takes the fastest one that loads. */
  backend?: BackendRequest;
  /** Receives the one-line report of what was chosen and why. */
  report?: (line: string) => void;
  /** Replaces how each backend is loaded; for tests of the selection itself. */
  loaders?: BackendLoaders;
  /**
   * Intra-op threads of the native backends (TF_NUM_INTRAOP_THREADS, set before the binding
   * loads); default the variable as given, else the cores this process may use. wasm and cpu
   * compute on one thread.
   */
  threads?: number;
}

export interface RuntimeInfo {
  backend: BackendName;
  /** The name tfjs-core knows the active backend by (`tf.getBackend()`). */
  tfjsBackend: string;
  /** One line: what was chosen and why the faster ones were passed over. */
  summary: string;
  /** Intra-op threads the backend computes with (fixed: the numbers depend on it); 1 for wasm and cpu. */
  threads: number;
}

let active: RuntimeInfo | undefined;

/**
 * Initialises TensorFlow.js once per process. tfjs keeps one active backend per process,
 * so a second call must ask for the same backend (or `auto`) and gets the first answer.
 */
export async function initRuntime(options: RuntimeOptions = {}): Promise<RuntimeInfo> {
  const request = options.backend ?? 'auto';
  if (active !== undefined) return reuseActive(active, request, options.threads);
  const loaders = options.loaders ?? defaultBackendLoaders;
  if (options.threads !== undefined) {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1) throw new RuntimeInitError(`threads must be a positive integer, got ${options.threads}`);
    process.env[INTRA_OP_THREADS] = String(options.threads);
  }
  // Production mode: no debug checks and no console banners from tfjs itself.
  tf.enableProdMode();
  const info =
    request === 'auto' ? await chooseAutomatically(loaders) : await loadNamed(request, loaders);
  options.report?.(info.summary);
  if (options.loaders === undefined) active = info;
  return info;
}

function reuseActive(current: RuntimeInfo, request: BackendRequest, threads: number | undefined): RuntimeInfo {
  if (request !== 'auto' && request !== current.backend) {
    throw new RuntimeInitError(
      `backend '${request}' requested, but this process already runs on '${current.backend}'`,
    );
  }
  if (threads !== undefined && current.tfjsBackend === 'tensorflow' && threads !== current.threads) {
    throw new RuntimeInitError(`${threads} threads requested, but this process already computes with ${current.threads}`);
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
  const threads = TFJS_BACKEND_OF[backend] === 'tensorflow' ? (threadCountIn(process.env[INTRA_OP_THREADS]) ?? 1) : 1;
  return { backend, tfjsBackend: TFJS_BACKEND_OF[backend], summary: `backend: ${summary}`, threads };
}

/** The backend this process runs on, or undefined before `initRuntime`. */
export function activeRuntime(): RuntimeInfo | undefined {
  return active;
}
