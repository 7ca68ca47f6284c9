import { ArtifactError } from '../artifact-error';

/** What an S3 client error carries (the SDK's ServiceException, or a Node network error). */
interface S3ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function shapeOf(error: unknown): S3ErrorShape {
  return typeof error === 'object' && error !== null ? (error as S3ErrorShape) : {};
}

export function httpStatusOf(error: unknown): number | undefined {
  return shapeOf(error).$metadata?.httpStatusCode;
}

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
  'ShortRead',
  // The server refused a body whose checksum did not match: it was damaged on the way, and the
  // store sends it again from memory.
  'BadDigest',
  'XAmzContentSHA256Mismatch',
]);

const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);

const CREDENTIAL_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);

/**
 * Whether a failed S3 request may succeed when repeated: throttling, a 5xx answer, a timeout, a
 * reset or refused connection (a restarting server), a body damaged on the way (BadDigest). Bad
 * credentials, a missing bucket or key, and malformed requests are not.
 */
export function isTransientS3Error(error: unknown): boolean {
  if (error instanceof ArtifactError) return false;
  const shape = shapeOf(error);
  const status = shape.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if (shape.$retryable !== undefined && shape.$retryable !== null && shape.$retryable !== false) return true;
  if (shape.name !== undefined && TRANSIENT_NAMES.has(shape.name)) return true;
  if (shape.code !== undefined && TRANSIENT_NETWORK_CODES.has(shape.code)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause !== undefined && cause !== error && isTransientS3Error(cause)) return true;
  return status === undefined && /socket hang up|ECONNRESET|ECONNREFUSED|other side closed|premature close/i.test(shape.message ?? '');
}

export function isMissingObject(error: unknown): boolean {
  const shape = shapeOf(error);
  return shape.name === 'NoSuchKey' || (shape.name === 'NotFound' && shape.$metadata?.httpStatusCode === 404);
}

function isMissingBucket(error: unknown, operation: string): boolean {
  const shape = shapeOf(error);
  // HeadBucket answers a bare 404 (no body, so no error code).
  return shape.name === 'NoSuchBucket' || (operation === 'HeadBucket' && shape.$metadata?.httpStatusCode === 404);
}

function isCredentialFailure(error: unknown): boolean {
  const shape = shapeOf(error);
  return (shape.name !== undefined && CREDENTIAL_NAMES.has(shape.name)) || shape.$metadata?.httpStatusCode === 403;
}

export interface S3Context {
  /** `s3://bucket/prefix` */
  store: string;
  bucket: string;
  /** The endpoint in use, or 'AWS' for the default. */
  endpoint: string;
}

/** One line of what the SDK said: the error code, the HTTP status and the message. */
export function summarize(error: unknown): string {
  const shape = shapeOf(error);
  const status = shape.$metadata?.httpStatusCode;
  // An answer without a body (HEAD requests) carries no error code: the SDK calls it Unknown.
  const code = shape.name === 'Unknown' ? undefined : (shape.name ?? shape.code);
  const message = shape.message !== undefined && shape.message !== '' && shape.message !== 'UnknownError' ? `: ${shape.message}` : '';
  const http = status === undefined ? '' : `HTTP ${status}`;
  if (code === undefined) return `${http || 'Error'}${message}`;
  return `${code}${http === '' ? '' : ` (${http})`}${message}`;
}

/**
 * The ArtifactError for a failed S3 request: a missing bucket and rejected or missing
 * credentials are 'misconfigured' with a message saying what to set; a missing object is
 * 'not-found'; a transient failure that outlived its retries is 'unavailable'; anything else
 * 'internal'. Every message names the store and, when there is one, the artifact.
 */
export function toArtifactError(error: unknown, operation: string, context: S3Context, key?: string): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const subject = key === undefined ? context.store : `artifact ${key} in ${context.store}`;
  const said = summarize(error);
  const options = { cause: error };
  if (isMissingBucket(error, operation)) {
    return new ArtifactError('misconfigured', `${operation} ${subject}: the bucket '${context.bucket}' does not exist at ${context.endpoint} (${said}); create it or fix --store`, key, options);
  }
  if (shapeOf(error).name === 'CredentialsProviderError') {
    return new ArtifactError(
      'misconfigured',
      `${operation} ${subject}: no S3 credentials (${said}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --s3-access-key-id and --s3-secret-access-key)`,
      key,
      options,
    );
  }
  if (isCredentialFailure(error)) {
    return new ArtifactError(
      'misconfigured',
      `${operation} ${subject}: ${context.endpoint} rejected the S3 credentials (${said}); check the access key, the secret and the bucket policy`,
      key,
      options,
    );
  }
  if (isMissingObject(error) && key !== undefined) return new ArtifactError('not-found', `artifact ${key} not found in ${context.store}`, key, options);
  if (isTransientS3Error(error)) return new ArtifactError('unavailable', `${operation} ${subject}: ${context.endpoint} did not answer in time or failed (${said})`, key, options);
  return new ArtifactError('internal', `${operation} ${subject}: ${said}`, key, options);
}
