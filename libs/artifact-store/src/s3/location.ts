import { ArtifactError } from '../artifact-error';
import { describeValue } from '../artifact-key';

/** A bucket and a key prefix: `s3://bucket/prefix`. */
export interface S3Location {
  bucket: string;
  /** '' or a prefix without leading or trailing slashes. */
  prefix: string;
}

/** The bucket names S3 accepts: 3-63 lowercase letters, digits, dots and hyphens, alphanumeric at both ends. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket[/prefix]`. Throws an ArtifactError (invalid-argument) naming what is wrong. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (match === null) throw new ArtifactError('invalid-argument', `store ${describeValue(url)} is not an s3://BUCKET[/PREFIX] address`);
  const bucket = match[1] ?? '';
  if (!BUCKET_PATTERN.test(bucket) || bucket.includes('..')) {
    throw new ArtifactError(
      'invalid-argument',
      `store ${describeValue(url)}: ${describeValue(bucket)} is not a bucket name (3-63 lowercase letters, digits, dots and hyphens)`,
    );
  }
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    if (prefix !== '') throw new ArtifactError('invalid-argument', `store ${describeValue(url)}: the prefix ${describeValue(prefix)} has an empty, '.' or '..' segment`);
  }
  return { bucket, prefix };
}

/** `s3://bucket/prefix` (or `s3://bucket`). */
export function formatS3Url(location: S3Location): string {
  return `s3://${location.bucket}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}

/** The object key of an artifact: `<prefix>/<sha256>`. */
export function objectKeyOf(location: S3Location, key: string): string {
  return location.prefix === '' ? key : `${location.prefix}/${key}`;
}
