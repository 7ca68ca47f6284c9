import { InsecureTransportError } from '@ippro/protocol';
import { EXIT_BAD_INPUT, EXIT_FAILURE, UsageError } from './exit-codes';

/**
 * Prints one line naming what is wrong and returns the exit code: bad input (found before
 * any work started) exits 2, a failure during the work exits 1. IPPRO_DEBUG=1 adds the stack.
 */
export function reportError(error: unknown, write: (line: string) => void): number {
  const message = error instanceof Error ? error.message : String(error);
  write(`ippro: ${message.split('\n', 1)[0] ?? message}`);
  if (process.env['IPPRO_DEBUG'] && error instanceof Error && error.stack) write(error.stack);
  return error instanceof UsageError || error instanceof InsecureTransportError ? EXIT_BAD_INPUT : EXIT_FAILURE;
}
