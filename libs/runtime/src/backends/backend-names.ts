/** A compute backend ippro can run on, in the order `auto` tries them. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a user may ask for: a backend by name, or `auto` for the fastest that loads. */
export type BackendRequest = 'auto' | BackendName;

export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', ...BACKEND_NAMES];

export function parseBackendRequest(value: string): BackendRequest {
  const request = BACKEND_REQUESTS.find((candidate) => candidate === value);
  if (request === undefined) {
    throw new RuntimeInitError(
      `unknown backend '${value}': expected one of ${BACKEND_REQUESTS.join(', ')}`,
    );
  }
  return request;
}

/** A backend that was asked for by name could not be initialised. */
export class RuntimeInitError extends Error {
  override readonly name = 'RuntimeInitError';
}
