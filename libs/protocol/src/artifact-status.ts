import { Metadata, status } from '@grpc/grpc-js';
import type { ArtifactErrorKind } from '@ippro/artifact-store';

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
