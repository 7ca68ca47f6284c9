/** What is wrong with a compute call's input; the same call fails the same way anywhere. */
export type ComputeInputErrorType = 'InvalidArgument' | 'NotFound' | 'DataLoss';

/**
 * Bad input to a compute call: retrying cannot help. The gRPC worker answers it with the
 * matching status (INVALID_ARGUMENT, NOT_FOUND, DATA_LOSS); the activities make it a
 * non-retryable failure of that type.
 */
export class ComputeInputError extends Error {
  override readonly name = 'ComputeInputError';
  /** The artifact at fault (missing, corrupted or unusable), when there is one. */
  readonly artifactId?: string;

  constructor(
    message: string,
    readonly type: ComputeInputErrorType = 'InvalidArgument',
    options?: { cause?: unknown; artifactId?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.artifactId !== undefined) this.artifactId = options.artifactId;
  }
}
