/**
 * Raised when a removal cannot be applied: an unknown or unprunable group, a graph that does
 * not describe the model, or a layer whose weights surgery does not know how to slice.
 * Thrown before the new model is built, so nothing half-pruned is ever returned.
 */
export class SurgeryError extends Error {
  override readonly name = 'SurgeryError';
}
