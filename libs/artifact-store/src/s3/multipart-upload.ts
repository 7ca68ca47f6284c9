import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import type { S3Sdk } from './client';
import { isMissingObject } from './errors';

/** S3 refuses parts below 5 MiB (except the last one). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface MultipartTarget {
  sdk: S3Sdk;
  client: S3Client;
  bucket: string;
  objectKey: string;
  /** Parts uploaded at once. */
  concurrency: number;
  /** Runs one request with the store's retries. */
  retry<T>(operation: string, request: () => Promise<T>): Promise<T>;
}

/**
 * Concatenates chunks into parts of exactly `partBytes` (the last one may be smaller), so that
 * every part but the last meets S3's minimum whatever sizes the source yields. A whole part
 * that lies in one chunk (a large artifact put from memory) is a view of it, not a copy: a
 * chunk must not change once yielded (as with Node streams).
 */
export async function* partsOf(source: AsyncIterable<Uint8Array>, partBytes: number): AsyncGenerator<Buffer> {
  let part: Buffer | undefined;
  let filled = 0;
  for await (const chunk of source) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let offset = 0;
    while (offset < bytes.length) {
      if (filled === 0 && bytes.length - offset >= partBytes) {
        yield bytes.subarray(offset, offset + partBytes);
        offset += partBytes;
        continue;
      }
      part ??= Buffer.allocUnsafe(partBytes);
      const taken = Math.min(partBytes - filled, bytes.length - offset);
      bytes.copy(part, filled, offset, offset + taken);
      filled += taken;
      offset += taken;
      if (filled === partBytes) {
        yield part;
        part = undefined;
        filled = 0;
      }
    }
  }
  if (part !== undefined && filled > 0) yield part.subarray(0, filled);
}

/**
 * Uploads `parts` as one multipart upload, `concurrency` parts at a time. `beforeComplete` runs
 * when every part is uploaded and may throw (the bytes did not match their declared key): the
 * upload is then aborted, as after any failure, and nothing becomes visible under the key.
 */
export async function uploadInParts(target: MultipartTarget, parts: AsyncIterable<Buffer>, beforeComplete: () => void): Promise<void> {
  const { sdk, client, bucket, objectKey } = target;
  // Every part carries its CRC32, which the server verifies: a part damaged on the way is
  // refused (BadDigest) and sent again, never stored.
  const created = await target.retry('CreateMultipartUpload', () =>
    client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: objectKey, ChecksumAlgorithm: 'CRC32' })),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new Error(`CreateMultipartUpload of ${objectKey} returned no upload id`);
  const completed: CompletedPart[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    let partNumber = 0;
    for await (const body of parts) {
      if (failure !== undefined) throw failure.error;
      partNumber += 1;
      const number = partNumber;
      const task: Promise<void> = target
        .retry(`UploadPart ${number}`, () =>
          client.send(new sdk.UploadPartCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId, PartNumber: number, Body: body, ChecksumAlgorithm: 'CRC32' })),
        )
        .then((uploaded) => {
          completed.push({ PartNumber: number, ETag: uploaded.ETag, ...(uploaded.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: uploaded.ChecksumCRC32 }) });
        })
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inflight.delete(task));
      inflight.add(task);
      if (inflight.size >= target.concurrency) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw failure.error;
    beforeComplete();
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await complete(target, uploadId, completed);
  } catch (error) {
    await Promise.allSettled(inflight);
    await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}

/**
 * CompleteMultipartUpload with retries. A retry that finds the upload gone (NoSuchUpload) means
 * an earlier attempt completed it but its answer was lost: the object then exists.
 */
async function complete(target: MultipartTarget, uploadId: string, parts: CompletedPart[]): Promise<void> {
  const { sdk, client, bucket, objectKey } = target;
  let attempts = 0;
  await target.retry('CompleteMultipartUpload', async () => {
    attempts += 1;
    try {
      await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      const gone = (error as { name?: string } | null)?.name === 'NoSuchUpload';
      if (!gone || attempts === 1) throw error;
      try {
        await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: objectKey }));
      } catch (headError) {
        if (isMissingObject(headError)) throw error;
        throw headError;
      }
    }
  });
}
