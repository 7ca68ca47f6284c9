import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planarBytesToNhwc } from './planar-to-nhwc';

test('a planar record becomes channels-last floats in 0..1', () => {
  // A 2x2 image after one leading byte: R plane, then G plane, then B plane.
  const red = [0, 10, 20, 30];
  const green = [40, 50, 60, 70];
  const blue = [80, 90, 100, 255];
  const planar = Uint8Array.from([9, ...red, ...green, ...blue]);
  const target = new Float32Array(14).fill(-1);
  planarBytesToNhwc(planar, 1, target, 2, 4, 3);
  const interleaved = [0, 40, 80, 10, 50, 90, 20, 60, 100, 30, 70, 255];
  assert.deepEqual(Array.from(target.subarray(2)), interleaved.map((b) => Math.fround(b / 255)));
  assert.deepEqual(Array.from(target.subarray(0, 2)), [-1, -1]);
});

test('a full 32x32 record puts channel c of pixel (y, x) at ((y*32)+x)*3+c', () => {
  const planar = Uint8Array.from({ length: 3072 }, (_, i) => i % 251);
  const target = new Float32Array(3072);
  planarBytesToNhwc(planar, 0, target, 0);
  for (const [y, x, c] of [[0, 0, 0], [0, 31, 2], [17, 5, 1], [31, 31, 2]]) {
    const planarIndex = c * 1024 + y * 32 + x;
    assert.equal(target[(y * 32 + x) * 3 + c], Math.fround((planarIndex % 251) / 255));
  }
});
