import { storeBytes } from '@ippro/artifact-store';
import type { ArtifactStorage } from '@ippro/artifact-store';

/** JSON with non-finite numbers as the strings "Infinity", "-Infinity" (NaN is refused). */
function encode(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'number' && !Number.isFinite(item)) {
      if (Number.isNaN(item)) throw new Error('NaN cannot be stored in a JSON artifact');
      return item > 0 ? 'Infinity' : '-Infinity';
    }
    return item;
  });
}

/** Stores a small JSON document (plans, score tables, group lists) and returns its sha256. */
export function putJson(store: ArtifactStorage, value: unknown): Promise<string> {
  return storeBytes(store, Buffer.from(encode(value), 'utf8'));
}

export async function getJson<T>(store: ArtifactStorage, key: string): Promise<T> {
  return JSON.parse((await store.get(key)).toString('utf8')) as T;
}

/** A number stored by putJson: "Infinity" / "-Infinity" back to numbers. */
export function decodeNumber(value: number | string): number {
  if (typeof value === 'number') return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  throw new Error(`not a stored number: ${JSON.stringify(value)}`);
}
