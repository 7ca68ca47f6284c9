import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cifar10File } from './cifar10-file';
import { CIFAR10_RECORD_BYTES, CIFAR10_STANDARD_FILE_BYTES } from './cifar10-format';
import { DataError } from './data-error';
import { cifar10Bytes } from './testing/cifar10-bytes';
import { temporaryDirectory } from './testing/shared-data';

const dir = temporaryDirectory('file');
test.after(() => dir.remove());

function writeFile(name: string, bytes: Buffer): string {
  const path = join(dir.path, name);
  writeFileSync(path, bytes);
  return path;
}

function dataError(kind: DataError['kind'], ...fragments: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    for (const fragment of fragments) assert.match(error.message, new RegExp(escape(fragment)));
    return true;
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

test('reads labels and NHWC pixels from a hand-made file', () => {
  const path = writeFile('small.bin', cifar10Bytes([3, 9, 0]));
  const file = Cifar10File.open(path);
  assert.equal(file.size, 3);
  assert.deepEqual(Array.from(file.labels()), [3, 9, 0]);
  assert.equal(file.label(1), 9);
  const image = new Float32Array(3072);
  file.writeSample(2, image, 0);
  // Record 2, pixel (y=1, x=4), channel 2 (blue): planar byte 2*1024 + 36.
  assert.equal(image[(32 + 4) * 3 + 2], Math.fround(((2 * 7 + 2048 + 36) & 0xff) / 255));
  assert.deepEqual(file.sampleShape, [32, 32, 3]);
});

test('a missing file is named in a not-found error', () => {
  const path = join(dir.path, 'absent.bin');
  assert.throws(() => Cifar10File.open(path), dataError('not-found', path, 'does not exist'));
});

test('a truncated file (not a whole number of records) is refused, naming it', () => {
  const bytes = cifar10Bytes([1, 2]).subarray(0, 2 * CIFAR10_RECORD_BYTES - 100);
  const path = writeFile('truncated.bin', bytes);
  const expected = dataError('data-loss', path, '6046 bytes', 'truncated');
  assert.throws(() => Cifar10File.open(path), expected);
});

test('an oversized file is refused when the standard 10,000 records are expected', () => {
  const bytes = Buffer.alloc(CIFAR10_STANDARD_FILE_BYTES + CIFAR10_RECORD_BYTES);
  const path = writeFile('oversized.bin', bytes);
  const sizes = ['30733073 bytes (10001 records)', 'a standard file is 30730000 bytes'];
  const expected = dataError('data-loss', path, ...sizes);
  assert.throws(() => Cifar10File.open(path, { expectedRecords: 10_000 }), expected);
});

test('a standard-size file opens when 10,000 records are expected', () => {
  const path = writeFile('standard.bin', Buffer.alloc(CIFAR10_STANDARD_FILE_BYTES));
  assert.equal(Cifar10File.open(path, { expectedRecords: 10_000 }).size, 10_000);
});

test('label 10 is refused with the file and the record index', () => {
  const path = writeFile('bad-label.bin', cifar10Bytes([0, 1, 2, 3, 10, 5]));
  const file = Cifar10File.open(path);
  assert.throws(() => file.load(), dataError('data-loss', path, 'record 4 has label 10', '0-9'));
  assert.throws(() => file.label(0), dataError('data-loss', 'record 4'));
});

test('bytes are read on first access, not on open', () => {
  const path = writeFile('lazy.bin', cifar10Bytes([4]));
  const file = Cifar10File.open(path);
  writeFileSync(path, cifar10Bytes([7]));
  assert.equal(file.label(0), 7);
});

test('a sample index outside the file is a RangeError naming the file', () => {
  const path = writeFile('range.bin', cifar10Bytes([1]));
  assert.throws(() => Cifar10File.open(path).label(1), (error: Error) => {
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /range\.bin: sample index 1 is outside 0\.\.0/);
    return true;
  });
});
