import { status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { ArtifactError, artifactKeyMetadata } from '@ippro/artifacts';
import { DataError } from '@ippro/data';
import type { DataErrorKind } from '@ippro/data';
import { ArtifactFormatError } from '@ippro/model-artifact';

/** A refusal or failure of a worker call, with the gRPC status it is answered with. */
export class WorkerError extends Error {
  override readonly name = 'WorkerError';

  constructor(
    readonly code: status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidArgument = (message: string): WorkerError => new WorkerError(status.INVALID_ARGUMENT, message);

const STATUS_OF_DATA_ERROR: Record<DataErrorKind, status> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  // A batch or sample range outside the dataset is a bad argument of the call.
  'out-of-range': status.INVALID_ARGUMENT,
  // A dataset file missing on this worker: another worker may have it.
  'not-found': status.FAILED_PRECONDITION,
  'data-loss': status.DATA_LOSS,
  unavailable: status.UNAVAILABLE,
};

/** The status a failed call is answered with; the details name what was wrong. */
export function statusOfError(error: unknown): Partial<StatusObject> {
  if (error instanceof WorkerError) return { code: error.code, details: error.message };
  if (error instanceof ArtifactError) {
    // The key travels in the trailers: the caller can recompute or refetch that artifact.
    const metadata = artifactKeyMetadata(error);
    return { code: error.code, details: error.message, ...(metadata === undefined ? {} : { metadata }) };
  }
  if (error instanceof ArtifactFormatError) return { code: status.INVALID_ARGUMENT, details: error.message };
  if (error instanceof DataError) return { code: STATUS_OF_DATA_ERROR[error.kind], details: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: status.INTERNAL, details: `worker: ${message}` };
}
