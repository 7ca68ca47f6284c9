/** The pruning request cannot be carried out as given: a flag, a target, a file. */
export class PruningInputError extends Error {
  override readonly name = 'PruningInputError';
}
