import { KerasBadInput, withKerasConverter } from '@ippro/interop';
import type { KerasConverter } from '@ippro/interop';
import { startBackend } from './cli-inputs';
import { UsageError } from './exit-codes';

/**
 * Runs `check` (what can be refused without Python), then `work` with a Keras converter in the
 * environment `environmentDir` (default: the pinned one), on the cpu backend (nothing is computed,
 * models are only loaded and checked). Bad input from either (a path, a file, a layer, a version, a
 * missing environment) is reported as bad input, exit 2.
 */
export async function withKeras<T>(environmentDir: string | undefined, check: () => Promise<void>, work: (converter: KerasConverter) => Promise<T>): Promise<T> {
  try {
    await check();
    await startBackend('cpu', true);
    return await withKerasConverter(environmentDir === undefined ? {} : { environmentDir }, work);
  } catch (error) {
    throw error instanceof KerasBadInput ? new UsageError(error.message) : error;
  }
}
