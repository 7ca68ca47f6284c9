/**
 * Why a data operation failed, named after the gRPC status a worker should answer with, so a
 * service can map the error without parsing its message.
 */
export type DataErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'out-of-range'
  | 'data-loss'
  | 'unavailable';

/** Every error this library raises on purpose: the message names the file, spec or field. */
export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(
    readonly kind: DataErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
