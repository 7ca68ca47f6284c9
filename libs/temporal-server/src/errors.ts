/** The temporal CLI could not be found, verified or installed as configured. */
export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

/** The dev server did not start, did not answer in time, or died. */
export class DevServerError extends Error {
  override name = 'DevServerError';

  constructor(
    message: string,
    /** Last lines the server printed; the usual place to see why it failed. */
    readonly outputTail: readonly string[] = [],
  ) {
    super(outputTail.length > 0 ? `${message}\n--- temporal output (last lines) ---\n${outputTail.join('\n')}` : message);
  }
}
