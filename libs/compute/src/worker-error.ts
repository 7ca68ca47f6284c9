import { status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { ArtifactError } from '@ippro/artifact-store';
import { artifactKeyMetadata } from '@ippro/protocol';
import { ComputeInputError } from '@ippro/compute-core';
import type { ComputeInputErrorType } from '@ippro/compute-core';
import { DataError } from '@ippro/data';
import type { DataErrorKind } from '@ippro/data';
import { ArtifactFormatError } from '@ippro/model-artifact';

/** A refusal of the worker itself (busy, shutting down, aborting), with the gRPC status it is answered with. */
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

const STATUS_OF_INPUT_ERROR: Record<ComputeInputErrorType, status> = {
  InvalidArgument: status.INVALID_ARGUMENT,
  NotFound: status.NOT_FOUND,
  DataLoss: status.DATA_LOSS,
};

const STATUS_OF_DATA_ERROR: Record<DataErrorKind, status> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  // A batch or sample range outside the dataset is a bad argument of the call.
  'out-of-range': status.INVALID_ARGUMENT,
  // A dataset file missing on this worker: another worker may have it.
  'not-found': status.FAILED_PRECONDITION,
  'data-loss': status.DATA_LOSS,
  unavailable: status.UNAVAILABLE,
};

/** The status a failed call is answered with; the details name what was wrong, the trailers the artifact at fault. */
export function statusOfError(error: unknown): Partial<StatusObject> {
  if (error instanceof WorkerError) return { code: error.code, details: error.message };
  const withArtifact = (code: status, message: string, key: string | undefined): Partial<StatusObject> => {
    // The key travels in the trailers: the caller can recompute or refetch that artifact.
    const metadata = artifactKeyMetadata(key);
    return { code, details: message, ...(metadata === undefined ? {} : { metadata }) };
  };
  if (error instanceof ComputeInputError) return withArtifact(STATUS_OF_INPUT_ERROR[error.type], error.message, error.artifactId);
  if (error instanceof ArtifactError) return withArtifact(error.code, error.message, error.key);
  if (error instanceof ArtifactFormatError) return { code: status.INVALID_ARGUMENT, details: error.message };
  if (error instanceof DataError) return { code: STATUS_OF_DATA_ERROR[error.kind], details: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: status.INTERNAL, details: `worker: ${message}` };
}
