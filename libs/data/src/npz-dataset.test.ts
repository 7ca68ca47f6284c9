import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYTE_TO_UNIT } from './byte-samples';
import { DataError } from './data-error';
import { readSamples } from './read-samples';
import { resolveDataset } from './resolve-dataset';
import { float32Bytes, int64Bytes, npzBytes, zipBytes } from './npz-writer';
import type { NpyEntry } from './npz-writer';
import { temporaryDirectory, workspaceRoot } from './testing/shared-data';

const fixtures = join(workspaceRoot(), 'libs', 'data', 'src', 'testing', 'fixtures');

function withFile(bytes: Uint8Array, run: (path: string) => void): void {
  const folder = temporaryDirectory('npz');
  try {
    const path = join(folder.path, 'data.npz');
    writeFileSync(path, bytes);
    run(path);
  } finally {
    folder.remove();
  }
}

function rejects(action: () => unknown, ...fragments: string[]): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof DataError, String(error));
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return true;
  });
}

const images: NpyEntry = { dtype: '|u1', shape: [4, 2, 2, 1], data: Uint8Array.from({ length: 16 }, (_, i) => i * 10) };
const labels: NpyEntry = { dtype: '<i8', shape: [4], data: int64Bytes([1, 0, 1, 2]) };

test('files NumPy wrote read back exactly: np.savez (stored) and np.savez_compressed (deflated)', () => {
  const stored = resolveDataset(`npz:${join(fixtures, 'numpy-savez.npz')}`);
  assert.deepEqual(stored.sampleShape, [4, 4, 3]);
  assert.equal(stored.size, 5);
  assert.equal(stored.numClasses, 3);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => stored.label(i)), [0, 1, 2, 1, 0]);
  assert.deepEqual([...(stored.sampleBytes?.(1) ?? [])], Array.from({ length: 48 }, (_, i) => (48 + i) % 256));
  assert.equal(readSamples(stored, 1, 2).x[0], Math.fround(48 * BYTE_TO_UNIT));
  const compressed = resolveDataset(`npz:${join(fixtures, 'numpy-savez-compressed.npz')}`);
  assert.deepEqual(compressed.sampleShape, [6]);
  assert.equal(compressed.numClasses, 3, 'multi-hot labels: one class per column');
  assert.deepEqual([...(compressed.multiHotLabel?.(2) ?? [])], [0, 1, 1]);
  assert.throws(() => compressed.label(0), /multi-hot labels, not one class per sample/);
  assert.equal(readSamples(compressed, 4, 5).x[5], Math.fround(2.9));
  assert.equal(compressed.sampleBytes, undefined, 'float32 samples are used as they are');
});

test('array names come from the spec; a sidecar names the classes', () => {
  withFile(npzBytes({ images, targets: labels }, 'deflated'), (path) => {
    const dataset = resolveDataset(`npz:${path}?x=images&y=targets`);
    assert.equal(dataset.size, 4);
    writeFileSync(join(path, '..', 'ippro-data.json'), JSON.stringify({ classes: ['a', 'b', 'c', 'd'], mean: [0.5], std: [0.25] }));
    const named = resolveDataset(`npz:${path}?x=images&y=targets`);
    assert.equal(named.numClasses, 4);
    assert.deepEqual(named.classNames, ['a', 'b', 'c', 'd']);
    assert.deepEqual(named.normalization, { mean: [0.5], std: [0.25] });
    writeFileSync(join(path, '..', 'ippro-data.json'), JSON.stringify({ classes: ['a', 'b'] }));
    rejects(() => resolveDataset(`npz:${path}?x=images&y=targets`), `npz file ${path}: array targets: label 3 is 2, outside the classes`);
  });
});

test('bad npz files are refused naming the file, the array and the reason', () => {
  const cases: { name: string; bytes: Uint8Array; says: string }[] = [
    { name: 'missing array', bytes: npzBytes({ x: images }), says: "has no array 'y' (its arrays: x)" },
    { name: 'mismatched lengths', bytes: npzBytes({ x: images, y: { dtype: '<i8', shape: [3], data: int64Bytes([0, 1, 0]) } }), says: 'array x holds 4 samples but array y 3 labels' },
    { name: 'Fortran order', bytes: npzBytes({ x: { ...images, fortranOrder: true }, y: labels }), says: 'array x is stored in Fortran order' },
    { name: 'object array', bytes: npzBytes({ x: images, y: { dtype: '|O', shape: [4], data: new Uint8Array(32) } }), says: 'array y holds Python objects (dtype |O)' },
    { name: 'float64 samples', bytes: npzBytes({ x: { dtype: '<f8', shape: [4, 1], data: new Uint8Array(32) }, y: labels }), says: 'array x has dtype <f8; samples are float32 or uint8' },
    { name: 'float labels', bytes: npzBytes({ x: images, y: { dtype: '<f4', shape: [4], data: float32Bytes([0, 1, 0, 1]) } }), says: 'array y has dtype <f4; labels are integers or bools' },
    { name: 'structured array', bytes: npzBytes({ x: { ...images, descr: "[('r', '|u1')]" }, y: labels }), says: 'array x is a structured array' },
    { name: 'negative label', bytes: npzBytes({ x: images, y: { dtype: '<i8', shape: [4], data: int64Bytes([0, -1, 0, 1]) } }), says: 'array y: label 1 is -1, outside the classes' },
    { name: 'non-finite sample', bytes: npzBytes({ x: { dtype: '<f4', shape: [4, 1], data: float32Bytes([0, Number.NaN, 0, 0]) }, y: labels }), says: 'array x: sample 1 holds a non-finite value (NaN)' },
    { name: 'multi-hot not 0/1', bytes: npzBytes({ x: images, y: { dtype: '<i8', shape: [4, 2], data: int64Bytes([0, 1, 2, 0, 1, 1, 0, 0]) } }), says: 'array y: sample 1 has multi-hot label 2' },
    { name: 'corrupt zip', bytes: Buffer.from('PK\x03\x04 this is not a zip at all'), says: 'is not a readable zip archive: not a ZIP archive' },
    { name: 'damaged member', bytes: damaged(npzBytes({ x: images, y: labels }, 'stored')), says: 'fails its CRC-32 check' },
  ];
  for (const { name, bytes, says } of cases) {
    withFile(bytes, (path) => {
      rejects(() => resolveDataset(`npz:${path}`), `npz file ${path}`, says);
    });
    assert.ok(name.length > 0);
  }
  rejects(() => resolveDataset('npz:/nonexistent/data.npz'), 'npz file /nonexistent/data.npz does not exist');
});

/** The archive with one byte of the first member's data flipped. */
function damaged(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  const dataStart = 30 + copy.readUInt16LE(26) + copy.readUInt16LE(28);
  copy[dataStart + 130] = (copy[dataStart + 130] as number) ^ 0xff;
  return copy;
}

test('the zip reader refuses a compression method it does not read', () => {
  const archive = zipBytes({ 'x.npy': Buffer.from('abc') }, 'stored');
  const directory = archive.length - 22 - 46 - 5;
  archive.writeUInt16LE(12, directory + 10);
  withFile(archive, (path) => rejects(() => resolveDataset(`npz:${path}`), 'uses compression method 12'));
});
