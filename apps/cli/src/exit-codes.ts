/** Exit codes of the ippro command, documented in the README. */
export const EXIT_OK = 0;
/** The work failed after it started (a computation error, a lost connection). */
export const EXIT_FAILURE = 1;
/** Bad input: flags, files or data that cannot be used; nothing was written. */
export const EXIT_BAD_INPUT = 2;

/** Bad input found before any work started: reported in one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
