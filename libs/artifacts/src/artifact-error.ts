import { Metadata, status } from '@grpc/grpc-js';

/**
 * Trailing metadata of a failed call that concerns one artifact: its key, so that a caller can
 * tell which artifact is missing or corrupted without parsing the message.
 */
export const ARTIFACT_KEY_METADATA = 'ippro-artifact-key';

/** Trailing metadata naming the artifact a failure concerns (undefined when it names none). */
export function artifactKeyMetadata(key: string | undefined): Metadata | undefined {
  if (key === undefined) return undefined;
  const metadata = new Metadata();
  metadata.set(ARTIFACT_KEY_METADATA, key);
  return metadata;
}

/** The artifact key a failed call's trailing metadata names, if any. */
export function artifactKeyOfStatus(error: unknown): string | undefined {
  const metadata = (error as { metadata?: unknown } | null)?.metadata;
  if (!(metadata instanceof Metadata)) return undefined;
  const [value] = metadata.get(ARTIFACT_KEY_METADATA);
  return typeof value === 'string' ? value : undefined;
}

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
  /** The store cannot be used as configured: a missing bucket, rejected credentials. */
  | 'misconfigured'
  | 'internal';

const STATUS_OF_KIND: Record<ArtifactErrorKind, status> = {
  'invalid-key': status.INVALID_ARGUMENT,
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'data-loss': status.DATA_LOSS,
  'too-large': status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  misconfigured: status.FAILED_PRECONDITION,
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
    case status.FAILED_PRECONDITION:
      return 'misconfigured';
    default:
      return 'internal';
  }
}

export function isArtifactError(error: unknown, kind?: ArtifactErrorKind): error is ArtifactError {
  return error instanceof ArtifactError && (kind === undefined || error.kind === kind);
}
