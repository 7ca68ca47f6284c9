import { status } from '@grpc/grpc-js';

/**
 * What went wrong with an artifact operation. Each kind has one gRPC status code, used by the
 * server to answer and by the client to turn a status back into this error.
 */
export type ArtifactErrorKind =
  | 'invalid-key'
  | 'invalid-argument'
  | 'not-found'
  | 'data-loss'
  | 'too-large'
  | 'unavailable'
  | 'internal';

const STATUS_OF_KIND: Record<ArtifactErrorKind, status> = {
  'invalid-key': status.INVALID_ARGUMENT,
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'data-loss': status.DATA_LOSS,
  'too-large': status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  /** The gRPC status code matching `kind`. */
  readonly code: status;

  constructor(
    readonly kind: ArtifactErrorKind,
    message: string,
    /** The artifact key concerned, when there is one. */
    readonly key?: string,
    options?: { cause?: unknown; code?: status },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? STATUS_OF_KIND[kind];
  }
}

/** The error kind a gRPC status code stands for (a status from the network). */
export function kindOfStatus(code: status): ArtifactErrorKind {
  switch (code) {
    case status.INVALID_ARGUMENT:
      return 'invalid-argument';
    case status.NOT_FOUND:
      return 'not-found';
    case status.DATA_LOSS:
      return 'data-loss';
    case status.RESOURCE_EXHAUSTED:
      return 'too-large';
    case status.UNAVAILABLE:
      return 'unavailable';
    default:
      return 'internal';
  }
}

export function isArtifactError(error: unknown, kind?: ArtifactErrorKind): error is ArtifactError {
  return error instanceof ArtifactError && (kind === undefined || error.kind === kind);
}
