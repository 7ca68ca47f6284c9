import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { BYTE_TO_UNIT } from './byte-samples';
import { DataError } from './data-error';
import { decodeImage } from './image-decode';
import { fitImage } from './image-fit';
import { readSamples } from './read-samples';
import { resolveDataset } from './resolve-dataset';
import { jpegBytes, pngBytes, testImage, writeTree } from './testing/image-files';
import { temporaryDirectory } from './testing/shared-data';

function withFolder(files: Record<string, Uint8Array>, run: (root: string) => void): void {
  const folder = temporaryDirectory('images');
  try {
    writeTree(folder.path, files);
    run(folder.path);
  } finally {
    folder.remove();
  }
}

function rejects(action: () => unknown, ...fragments: (string | RegExp)[]): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof DataError, String(error));
    for (const fragment of fragments) {
      if (typeof fragment === 'string') assert.ok(error.message.includes(fragment), error.message);
      else assert.match(error.message, fragment);
    }
    return true;
  });
}

test('PNG and JPEG decode with their channel counts; PNG bytes come back exactly', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    const image = testImage(5, 7, channels, channels);
    const decoded = decodeImage(pngBytes(image));
    assert.equal(decoded.channels, channels);
    assert.deepEqual([decoded.height, decoded.width], [5, 7]);
    for (let p = 0; p < 35; p += 1) {
      const gray = channels <= 2;
      for (let c = 0; c < 3; c += 1) assert.equal(decoded.rgba[p * 4 + c], image.pixels[p * channels + (gray ? 0 : c)]);
    }
  }
  const jpeg = decodeImage(jpegBytes(testImage(8, 8, 3, 1)));
  assert.equal(jpeg.channels, 3);
  assert.throws(() => decodeImage(Buffer.from('GIF89a......')), /neither a PNG nor a JPEG/);
});

test('fitting: same size copies exactly, bilinear resize with half-pixel centres, centre crop to the aspect ratio', () => {
  const image = { width: 2, height: 2, channels: 1, rgba: Uint8Array.from([0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255, 50, 50, 50, 255]) };
  const same = new Uint8Array(4);
  fitImage(image, 2, 2, 1, 'resize', same, 0);
  assert.deepEqual([...same], [0, 100, 200, 50]);
  const up = new Uint8Array(16);
  fitImage(image, 4, 4, 1, 'resize', up, 0);
  // Output row 1, column 1 samples input (0.25, 0.25): 0.75*0.75*0 + 0.75*0.25*100 + 0.25*0.75*200 + 0.25*0.25*50 = 59.375.
  assert.equal(up[5], 59);
  assert.equal(up[0], 0, 'corners clamp to the corner pixels');
  assert.equal(up[15], 50);
  const wide = { width: 4, height: 2, channels: 1, rgba: Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80].flatMap((v) => [v, v, v, 255])) };
  const cropped = new Uint8Array(4);
  fitImage(wide, 2, 2, 1, 'crop', cropped, 0);
  assert.deepEqual([...cropped], [20, 30, 60, 70], 'the centre 2x2 window');
  const rgb = { width: 1, height: 1, channels: 3, rgba: Uint8Array.from([255, 0, 0, 255]) };
  const luma = new Uint8Array(1);
  fitImage(rgb, 1, 1, 1, 'resize', luma, 0);
  assert.equal(luma[0], 76, 'RGB to grayscale is the BT.601 luma');
});

test('one folder per class, alphabetical, samples are bytes / 255 in sorted path order', () => {
  const cat = [testImage(4, 4, 3, 1), testImage(4, 4, 3, 2)];
  const dog = testImage(4, 4, 3, 3);
  withFolder({ 'dog/a.png': pngBytes(dog), 'cat/b.png': pngBytes(cat[1] as never), 'cat/a.PNG': pngBytes(cat[0] as never), 'cat/notes.txt': Buffer.from('ignored') }, (root) => {
    const dataset = resolveDataset(`images:${root}`);
    assert.deepEqual(dataset.classNames, ['cat', 'dog']);
    assert.equal(dataset.size, 3);
    assert.deepEqual(dataset.sampleShape, [4, 4, 3]);
    assert.deepEqual([0, 1, 2].map((i) => dataset.label(i)), [0, 0, 1]);
    assert.equal(dataset.normalization, undefined, 'no sidecar: no normalization');
    const samples = readSamples(dataset);
    assert.equal(samples.x[0], Math.fround((cat[0]?.pixels[0] as number) * BYTE_TO_UNIT));
    assert.deepEqual([...(dataset.sampleBytes?.(2) ?? [])], [...dog.pixels]);
  });
});

test('images are fitted to the model input, and channels are converted only when the spec says so', () => {
  withFolder({ 'a/x.png': pngBytes(testImage(6, 8, 3, 1)), 'b/y.png': pngBytes(testImage(3, 3, 4, 2)) }, (root) => {
    rejects(() => resolveDataset(`images:${root}`, { modelInput: [4, 4, 3] }), `${join(root, 'b', 'y.png')} has 4 channels (RGBA), but the samples have 3 channels (RGB)`, 'convert=true');
    const converted = resolveDataset(`images:${root}?convert=true`, { modelInput: [4, 4, 3] });
    assert.deepEqual(converted.sampleShape, [4, 4, 3]);
    const gray = resolveDataset(`images:${root}?size=2x2&channels=1&convert=true&fit=crop`);
    assert.deepEqual(gray.sampleShape, [2, 2, 1]);
    rejects(() => resolveDataset(`images:${root}`), 'differ in size', 'size=HEIGHTxWIDTH');
  });
});

test('a sidecar file sets the normalization and pins the class order', () => {
  withFolder({ 'dog/a.png': pngBytes(testImage(2, 2, 3, 1)), 'cat/b.png': pngBytes(testImage(2, 2, 3, 2)) }, (root) => {
    writeFileSync(join(root, 'ippro-data.json'), JSON.stringify({ mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2], classes: ['dog', 'bird', 'cat'] }));
    const dataset = resolveDataset(`images:${root}`);
    assert.deepEqual(dataset.classNames, ['dog', 'bird', 'cat']);
    assert.equal(dataset.numClasses, 3);
    assert.deepEqual([dataset.label(0), dataset.label(1)], [0, 2]);
    assert.deepEqual(dataset.normalization, { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] });
    assert.deepEqual(resolveDataset(`images:${root}?normalize=none`).normalization, undefined, 'the spec wins over the sidecar');
    writeFileSync(join(root, 'ippro-data.json'), JSON.stringify({ classes: ['dog'] }));
    rejects(() => resolveDataset(`images:${root}`), `class folder ${join(root, 'cat')} is not one of the classes listed in ${join(root, 'ippro-data.json')}`);
    writeFileSync(join(root, 'ippro-data.json'), JSON.stringify({ mean: [0.5], colour: true }));
    rejects(() => resolveDataset(`images:${root}`), `${join(root, 'ippro-data.json')}: unknown key "colour"`);
  });
});

test('bad image folders are refused naming the folder or file and the reason', () => {
  withFolder({ 'cat/a.png': pngBytes(testImage(2, 2, 3, 1)), 'dog/readme.txt': Buffer.from('x') }, (root) => {
    rejects(() => resolveDataset(`images:${root}`), `class folder ${join(root, 'dog')} holds no images`);
  });
  withFolder({ 'cat/a.png': pngBytes(testImage(2, 2, 3, 1)), 'dog/b.png': pngBytes(testImage(2, 2, 3, 1)).subarray(0, 40) }, (root) => {
    rejects(() => resolveDataset(`images:${root}`), `image ${join(root, 'dog', 'b.png')} cannot be decoded`);
  });
  withFolder({ 'cat.png': pngBytes(testImage(2, 2, 3, 1)) }, (root) => {
    rejects(() => resolveDataset(`images:${root}`), `image folder ${root} has no class folders`);
  });
  rejects(() => resolveDataset('images:/nonexistent/images'), 'image folder /nonexistent/images does not exist');
});
