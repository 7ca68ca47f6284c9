import { createHash } from 'node:crypto';
import { ArtifactError } from './artifact-error';

/** A key is the sha256 of the artifact's bytes: exactly 64 lowercase hex digits. */
export const ARTIFACT_KEY_PATTERN = /^[0-9a-f]{64}$/;

export function isArtifactKey(value: unknown): value is string {
  return typeof value === 'string' && ARTIFACT_KEY_PATTERN.test(value);
}

/** Shows an untrusted value in an error message without flooding it. */
export function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Throws an 'invalid-key' ArtifactError (INVALID_ARGUMENT) unless `value` is a sha256 hex key. */
export function assertArtifactKey(value: unknown, what = 'artifact key'): asserts value is string {
  if (!isArtifactKey(value)) {
    throw new ArtifactError(
      'invalid-key',
      `${what} ${describeValue(value)} is not a sha256 hex digest (64 lowercase hex digits)`,
    );
  }
}

/** The artifact key of some bytes. */
export function artifactKeyOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
