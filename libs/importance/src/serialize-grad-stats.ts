import { createHash } from 'node:crypto';
import type { BatchNormMode, GradStats, GradStatsHeader } from './grad-stats';
import { validateGradStats } from './grad-stats';

/*
 * Layout (little endian):
 *   magic "IPGS" | u32 version | u32 header byte length | header JSON (UTF-8)
 *   | float64 payload: sumLoss, sumR (one per group), then each group's sumG in header order
 *   | sha256 of everything before it (32 bytes)
 */
const MAGIC = 'IPGS';
const VERSION = 1;
const PREAMBLE_BYTES = 12;
const CHECKSUM_BYTES = 32;

interface StoredHeader extends GradStatsHeader {
  count: number;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Encodes gradient stats as a self-checking binary artifact. */
export function serializeGradStats(stats: GradStats): Uint8Array {
  validateGradStats(stats);
  const stored: StoredHeader = { ...stats.header, count: stats.count };
  const headerBytes = new TextEncoder().encode(JSON.stringify(stored));
  const values = 1 + stats.sumR.length + stats.sumG.reduce((total, sums) => total + sums.length, 0);
  const bodyLength = PREAMBLE_BYTES + headerBytes.length + values * 8;
  const bytes = new Uint8Array(bodyLength + CHECKSUM_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, PREAMBLE_BYTES);
  let offset = PREAMBLE_BYTES + headerBytes.length;
  for (const value of [Float64Array.of(stats.sumLoss), stats.sumR, ...stats.sumG].flatMap((array) => Array.from(array))) {
    view.setFloat64(offset, value, true);
    offset += 8;
  }
  bytes.set(sha256(bytes.subarray(0, bodyLength)), bodyLength);
  return bytes;
}

function checkEnvelope(bytes: Uint8Array): void {
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
  if (version !== VERSION) {
    throw new Error(`gradient stats artifact has version ${version}; this reader understands ${VERSION}`);
  }
}

function parseHeader(bytes: Uint8Array, length: number): StoredHeader {
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
  return parsed as StoredHeader;
}

/** Decodes and verifies (magic, version, checksum, sizes) a serialized GradStats. */
export function deserializeGradStats(bytes: Uint8Array): GradStats {
  checkEnvelope(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  const { count, ...header } = parseHeader(bytes, headerLength);
  const groups = header.groupIds.length;
  const values = 1 + groups + header.fSizes.reduce((total, size) => total + size, 0);
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
  const stats: GradStats = {
    header: { ...header, includeBias: header.includeBias ?? false, batchNormMode: (header.batchNormMode ?? 'inference') as BatchNormMode },
    count,
    sumLoss,
    sumG,
    sumR,
  };
  validateGradStats(stats);
  return stats;
}
