/**
 * What went wrong with an artifact operation. Each kind has one gRPC status code, used by the
 * artifact service to answer and by its client to turn a status back into this error.
 */
export type ArtifactErrorKind =
  | 'invalid-key'
  | 'invalid-argument'
  | 'not-found'
  | 'data-loss'
  | 'too-large'
  | 'unavailable'
  /** The store cannot be used as configured: a missing bucket, rejected credentials. */
  | 'misconfigured'
  | 'internal';

/**
 * The gRPC status codes artifact errors are answered with. The numbers are fixed by the gRPC
 * protocol, so the stores name them without loading gRPC; @ippro/protocol checks them against
 * @grpc/grpc-js.
 */
export const ARTIFACT_STATUS = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
} as const;

const STATUS_OF_KIND: Record<ArtifactErrorKind, number> = {
  'invalid-key': ARTIFACT_STATUS.INVALID_ARGUMENT,
  'invalid-argument': ARTIFACT_STATUS.INVALID_ARGUMENT,
  'not-found': ARTIFACT_STATUS.NOT_FOUND,
  'data-loss': ARTIFACT_STATUS.DATA_LOSS,
  'too-large': ARTIFACT_STATUS.RESOURCE_EXHAUSTED,
  unavailable: ARTIFACT_STATUS.UNAVAILABLE,
  misconfigured: ARTIFACT_STATUS.FAILED_PRECONDITION,
  internal: ARTIFACT_STATUS.INTERNAL,
};

export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  /** The gRPC status code matching `kind`. */
  readonly code: number;

  constructor(
    readonly kind: ArtifactErrorKind,
    message: string,
    /** The artifact key concerned, when there is one. */
    readonly key?: string,
    options?: { cause?: unknown; code?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? STATUS_OF_KIND[kind];
  }
}

export function isArtifactError(error: unknown, kind?: ArtifactErrorKind): error is ArtifactError {
  return error instanceof ArtifactError && (kind === undefined || error.kind === kind);
}
