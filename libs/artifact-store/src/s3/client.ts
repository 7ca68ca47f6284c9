import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/** The SDK module, loaded on first use so that processes without an S3 store never pay for it. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ConnectionOptions {
  /** e.g. http://127.0.0.1:8333 for SeaweedFS or MinIO; default AWS S3 of the region. */
  endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 (S3-compatible servers ignore it). */
  region?: string;
  /** Default: the SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, web identity). */
  credentials?: S3Credentials;
  /** `endpoint/bucket/key` addressing instead of `bucket.endpoint/key`; default true with an endpoint. */
  forcePathStyle?: boolean;
  /** Longest a connection may take to open. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest a socket may stay idle during a request. Default 120 s. */
  idleTimeoutMs?: number;
}

export async function loadS3Sdk(): Promise<S3Sdk> {
  // The SDK warns on Node 20 about releases it has not published yet; this project supports
  // Node 20, and the warning would land in every structured log. An explicit setting wins.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return import('@aws-sdk/client-s3');
}

/** The region in effect: the option, AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
export function regionOf(options: S3ConnectionOptions, env: NodeJS.ProcessEnv = process.env): string {
  return options.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

/** The header that carries a request's CRC32, which the store sets on every upload. */
const CRC32_HEADER = 'x-amz-checksum-crc32';

/**
 * A client whose own retries are off (maxAttempts 1): the store retries whole operations, with
 * its own backoff, so a retry is never multiplied by the SDK's.
 *
 * Each byte is checked once where it matters, not hashed again and again on a shared core:
 * - every upload carries a CRC32 of its body (the store asks for it explicitly), which the
 *   server checks (a mismatch is BadDigest). The signature covers that header, so the body is
 *   signed as UNSIGNED-PAYLOAD instead of being hashed once more with SHA-256 (SeaweedFS does
 *   not even check a signed payload hash; AWS S3 accepts either).
 * - the SDK validates no response checksums: every read is verified against its SHA-256 key.
 * - no 'Expect: 100-continue': with it the SDK sends every body over 2 MB on a new connection
 *   (no keep-alive) and only after a round trip for the server's go-ahead.
 */
export function createS3Client(sdk: S3Sdk, options: S3ConnectionOptions): S3Client {
  const config: S3ClientConfig = {
    region: regionOf(options),
    maxAttempts: 1,
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 10_000, socketTimeout: options.idleTimeoutMs ?? 120_000 },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    expectContinueHeader: false,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const client = new sdk.S3Client(config);
  client.middlewareStack.addRelativeTo(crc32InsteadOfPayloadHash, { name: 'crc32InsteadOfPayloadHash', relation: 'before', toMiddleware: 'httpSigningMiddleware' });
  return client;
}

/** Runs just before signing: a request that carries a CRC32 of its body is signed without hashing the body. */
function crc32InsteadOfPayloadHash<Args extends { request: unknown }, Result>(next: (args: Args) => Promise<Result>): (args: Args) => Promise<Result> {
  return (args) => {
    const headers = (args.request as { headers?: Record<string, string> }).headers;
    if (headers?.[CRC32_HEADER] !== undefined) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    return next(args);
  };
}
