/**
 * An artifact's bytes are not a valid model or dataset artifact, or hold a model that cannot be
 * built or has a non-finite weight. The message names the field, weight or layer. A service
 * answers INVALID_ARGUMENT: the bytes are intact (their sha256 is their id) but unusable.
 */
export class ArtifactFormatError extends Error {
  override readonly name = 'ArtifactFormatError';
}
