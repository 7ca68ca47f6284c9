import { homedir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the directory that holds the CIFAR-10 .bin files. */
export const CIFAR10_DIR_ENV = 'IPPRO_DATA_DIR';

/** Where downloads go and where specs look when nothing else is said: ~/.cache/ippro/cifar10. */
export function defaultCifar10CacheDir(): string {
  return join(homedir(), '.cache', 'ippro', 'cifar10');
}

/**
 * The CIFAR-10 directory, first match wins: the explicit option (e.g. a shared dataset folder),
 * then $IPPRO_DATA_DIR, then the default cache directory.
 */
export function resolveCifar10Dir(
  explicitDir?: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (explicitDir) return explicitDir;
  const fromEnv = env[CIFAR10_DIR_ENV];
  return fromEnv ? fromEnv : defaultCifar10CacheDir();
}
