import { createHash } from 'node:crypto';
import type { BatchNormMode, BatchStats, GradStats, GradStatsHeader } from './grad-stats';
import { validateGradStats } from './grad-stats';

/*
 * Layout (little endian):
 *   magic "IPGS" | u32 version | u32 header byte length | header JSON (UTF-8)
 *   | float64 payload: sumLoss, sumR (one per group), then each group's sumG in header order
 *     version 2 only, then: per group in header order its per-batch fDotG, gSquaredNorm and r
 *     (one value per batch each), then each group's sumSquaredG
 *   | sha256 of everything before it (32 bytes)
 * Version 2 carries BatchStats (their batch sizes in the header JSON as `batchSizes`); stats
 * without them are written as version 1, byte for byte as before the per-batch statistics.
 */
const MAGIC = 'IPGS';
const POOLED_ONLY_VERSION = 1;
const WITH_BATCHES_VERSION = 2;
const PREAMBLE_BYTES = 12;
const CHECKSUM_BYTES = 32;

interface StoredHeader extends GradStatsHeader {
  count: number;
  /** Version 2: BatchStats.sizes. */
  batchSizes?: number[];
}

function payloadArrays(stats: GradStats): Float64Array[] {
  const pooled = [Float64Array.of(stats.sumLoss), stats.sumR, ...stats.sumG];
  const batches = stats.batches;
  if (batches === undefined) {
    return pooled;
  }
  const scalars = stats.header.groupIds.flatMap((_, index) => [batches.fDotG[index], batches.gSquaredNorm[index], batches.r[index]]);
  return [...pooled, ...scalars, ...batches.sumSquaredG];
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Encodes gradient stats as a self-checking binary artifact. */
export function serializeGradStats(stats: GradStats): Uint8Array {
  validateGradStats(stats);
  const stored: StoredHeader = { ...stats.header, count: stats.count, ...(stats.batches ? { batchSizes: stats.batches.sizes } : {}) };
  const headerBytes = new TextEncoder().encode(JSON.stringify(stored));
  const arrays = payloadArrays(stats);
  const values = arrays.reduce((total, array) => total + array.length, 0);
  const bodyLength = PREAMBLE_BYTES + headerBytes.length + values * 8;
  const bytes = new Uint8Array(bodyLength + CHECKSUM_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, stats.batches ? WITH_BATCHES_VERSION : POOLED_ONLY_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, PREAMBLE_BYTES);
  let offset = PREAMBLE_BYTES + headerBytes.length;
  for (const array of arrays) {
    for (const value of array) {
      view.setFloat64(offset, value, true);
      offset += 8;
    }
  }
  bytes.set(sha256(bytes.subarray(0, bodyLength)), bodyLength);
  return bytes;
}

/** Checks magic and checksum; returns the format version. */
function checkEnvelope(bytes: Uint8Array): number {
  if (bytes.length < PREAMBLE_BYTES + CHECKSUM_BYTES) {
    throw new Error(`gradient stats artifact is truncated: ${bytes.length} bytes`);
  }
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== MAGIC) {
    throw new Error(`not a gradient stats artifact: magic '${magic}', expected '${MAGIC}'`);
  }
  const bodyLength = bytes.length - CHECKSUM_BYTES;
  const expected = sha256(bytes.subarray(0, bodyLength));
  const stored = bytes.subarray(bodyLength);
  if (!expected.every((byte, index) => byte === stored[index])) {
    throw new Error('gradient stats artifact is corrupt or truncated: sha256 checksum mismatch');
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  if (version !== POOLED_ONLY_VERSION && version !== WITH_BATCHES_VERSION) {
    throw new Error(`gradient stats artifact has version ${version}; this reader understands ${POOLED_ONLY_VERSION} and ${WITH_BATCHES_VERSION}`);
  }
  return version;
}

function parseHeader(bytes: Uint8Array, length: number, version: number): StoredHeader {
  if (PREAMBLE_BYTES + length > bytes.length - CHECKSUM_BYTES) {
    throw new Error(`gradient stats artifact header length ${length} exceeds the artifact`);
  }
  const text = new TextDecoder().decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + length));
  const parsed = JSON.parse(text) as Partial<StoredHeader>;
  const fields: Array<keyof StoredHeader> = ['modelHash', 'datasetId', 'sampleRange', 'groupIds', 'fSizes', 'count'];
  const missing = fields.find((field) => parsed[field] === undefined);
  if (missing !== undefined) {
    throw new Error(`gradient stats artifact header lacks '${missing}'`);
  }
  if (version === WITH_BATCHES_VERSION && !Array.isArray(parsed.batchSizes)) {
    throw new Error(`gradient stats artifact of version ${version} lacks 'batchSizes' in its header`);
  }
  return parsed as StoredHeader;
}

/** Decodes and verifies (magic, version, checksum, sizes) a serialized GradStats. */
export function deserializeGradStats(bytes: Uint8Array): GradStats {
  const version = checkEnvelope(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  const { count, batchSizes: storedSizes, ...header } = parseHeader(bytes, headerLength, version);
  const batchSizes = version === WITH_BATCHES_VERSION ? storedSizes : undefined;
  const groups = header.groupIds.length;
  const weights = header.fSizes.reduce((total, size) => total + size, 0);
  const batchValues = batchSizes === undefined ? 0 : groups * 3 * batchSizes.length + weights;
  const values = 1 + groups + weights + batchValues;
  let offset = PREAMBLE_BYTES + headerLength;
  if (offset + values * 8 !== bytes.length - CHECKSUM_BYTES) {
    throw new Error(`gradient stats artifact payload holds ${bytes.length - CHECKSUM_BYTES - offset} bytes, header implies ${values * 8}`);
  }
  const readArray = (length: number): Float64Array => {
    const array = new Float64Array(length);
    for (let index = 0; index < length; index++, offset += 8) {
      array[index] = view.getFloat64(offset, true);
    }
    return array;
  };
  const sumLoss = readArray(1)[0];
  const sumR = readArray(groups);
  const sumG = header.fSizes.map((size) => readArray(size));
  const readBatches = (sizes: number[]): BatchStats => {
    const scalars = header.groupIds.map(() => [readArray(sizes.length), readArray(sizes.length), readArray(sizes.length)]);
    return {
      sizes,
      fDotG: scalars.map(([fDotG]) => fDotG),
      gSquaredNorm: scalars.map(([, gSquaredNorm]) => gSquaredNorm),
      r: scalars.map(([, , r]) => r),
      sumSquaredG: header.fSizes.map((size) => readArray(size)),
    };
  };
  const stats: GradStats = {
    header: { ...header, includeBias: header.includeBias ?? false, batchNormMode: (header.batchNormMode ?? 'inference') as BatchNormMode },
    count,
    sumLoss,
    sumG,
    sumR,
    ...(batchSizes === undefined ? {} : { batches: readBatches(batchSizes) }),
  };
  validateGradStats(stats);
  return stats;
}
