import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from './data-error';
import { formatDatasetSpec, parseDatasetSpec } from './dataset-spec';

test('cifar10 splits, with and without a sample range', () => {
  assert.deepEqual(parseDatasetSpec('cifar10:train'), { scheme: 'cifar10', split: 'train' });
  assert.deepEqual(parseDatasetSpec('cifar10:test'), { scheme: 'cifar10', split: 'test' });
  assert.deepEqual(parseDatasetSpec('cifar10:train[0:5000]'), {
    scheme: 'cifar10',
    split: 'train',
    range: { start: 0, end: 5000 },
  });
  assert.deepEqual(parseDatasetSpec('cifar10:train[45000:]').range, { start: 45000 });
  assert.deepEqual(parseDatasetSpec('cifar10:test[:100]').range, { start: 0, end: 100 });
});

test('synthetic specs take n, seed and classes, with defaults', () => {
  assert.deepEqual(parseDatasetSpec('synthetic:cifar?n=512&seed=1&classes=10'), {
    scheme: 'synthetic',
    kind: 'cifar',
    size: 512,
    seed: 1,
    numClasses: 10,
  });
  assert.deepEqual(parseDatasetSpec('synthetic:cifar'), {
    scheme: 'synthetic',
    kind: 'cifar',
    size: 512,
    seed: 0,
    numClasses: 10,
  });
  assert.deepEqual(parseDatasetSpec('synthetic:cifar?n=64[8:16]').range, { start: 8, end: 16 });
});

test('json specs keep the path as written', () => {
  assert.deepEqual(parseDatasetSpec('json:../fixtures/data.json'), {
    scheme: 'json',
    path: '../fixtures/data.json',
  });
  assert.deepEqual(parseDatasetSpec('json:/a/b.json[0:16]'), {
    scheme: 'json',
    path: '/a/b.json',
    range: { start: 0, end: 16 },
  });
});

test('formatting gives back a spec that parses to the same value', () => {
  for (const text of [
    'cifar10:train',
    'cifar10:test[10:20]',
    'synthetic:cifar?n=64&seed=3&classes=4[0:]',
    'json:data.json[2:4]',
  ]) {
    const spec = parseDatasetSpec(text);
    assert.deepEqual(parseDatasetSpec(formatDatasetSpec(spec)), spec);
  }
  const canonical = formatDatasetSpec(parseDatasetSpec('synthetic:cifar?seed=2'));
  assert.equal(canonical, 'synthetic:cifar?n=512&seed=2&classes=10');
});

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseDatasetSpec(text), (error: unknown) => {
    assert.ok(error instanceof DataError);
    assert.equal(error.kind, 'invalid-argument');
    assert.ok(error.message.includes(`'${text}'`), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

test('bad specs are refused with the spec and what is wrong', () => {
  rejects('imagenet:train', /unknown scheme 'imagenet'; known schemes: cifar10, synthetic, json/);
  rejects('cifar10', /unknown scheme 'cifar10'; known schemes/);
  rejects('cifar10:valid', /unknown CIFAR-10 split 'valid'; known splits: train, test/);
  rejects('cifar10:train[5:5]', /sample range \[5:5\] is empty/);
  rejects('cifar10:train[a:b]', /must look like \[start:end\]/);
  rejects('synthetic:mnist', /unknown synthetic kind 'mnist'; known kinds: cifar/);
  rejects('synthetic:cifar?size=3', /unknown parameter 'size'; known: n, seed, classes/);
  rejects('synthetic:cifar?n=-3', /parameter n must be a non-negative integer/);
  rejects('synthetic:cifar?classes=1', /classes must be at least 2/);
  rejects('json:', /needs a file path/);
});

test('images, npz, splits and normalization: one parameter syntax for every scheme', () => {
  assert.deepEqual(parseDatasetSpec('images:data/train?size=32x24&fit=crop&channels=3&convert=true'), {
    scheme: 'images',
    path: 'data/train',
    size: [32, 24],
    fit: 'crop',
    channels: 3,
    convert: true,
  });
  assert.deepEqual(parseDatasetSpec('npz:a.npz?x=images&y=labels[0:10]'), { scheme: 'npz', path: 'a.npz', x: 'images', y: 'labels', range: { start: 0, end: 10 } });
  assert.deepEqual(parseDatasetSpec('images:dir?split=val&val=0.2&split-seed=3').trainVal, { part: 'val', fraction: 0.2, seed: 3 });
  assert.deepEqual(parseDatasetSpec('cifar10:train?split=train').trainVal, { part: 'train', fraction: 0.1, seed: 0 });
  assert.deepEqual(parseDatasetSpec('cifar10:test?normalize=mean=0.5,0.4,0.3,std=0.2,0.2,0.2').normalize, { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] });
  assert.equal(parseDatasetSpec('synthetic:cifar?normalize=none').normalize, 'none');
  for (const text of [
    'images:data/train?size=32x24&fit=crop&split=val&val=0.25&split-seed=1[0:8]',
    'npz:a.npz?x=images&normalize=mean=0.5,std=0.25',
    'cifar10:train?split=train&val=0.1&split-seed=0&normalize=none[0:100]',
    'json:data.json?split=val&val=0.5&split-seed=2',
  ]) {
    const spec = parseDatasetSpec(text);
    assert.equal(formatDatasetSpec(spec), text);
    assert.deepEqual(parseDatasetSpec(formatDatasetSpec(spec)), spec);
  }
});

test('bad parameters are refused naming the parameter', () => {
  rejects('images:dir?size=32', /parameter size must be HEIGHTxWIDTH in pixels/);
  rejects('images:dir?fit=stretch', /parameter fit must be resize or crop/);
  rejects('images:dir?channels=2', /parameter channels must be 1, 3 or 4/);
  rejects('images:', /images: needs a folder path/);
  rejects('npz:a.npz?x=a/b', /parameter x must name an array/);
  rejects('cifar10:train?split=test', /parameter split must be train or val/);
  rejects('cifar10:train?val=0.2', /parameter val needs split=train or split=val/);
  rejects('cifar10:train?split=val&val=1', /parameter val must be a fraction in \(0, 1\)/);
  rejects('cifar10:train?normalize=mean=0.5', /parameter normalize: must be mean=R,G,B,std=R,G,B/);
  rejects('cifar10:train?normalize=mean=0.5,0.5,std=0.2', /mean has 2 values and std 1/);
  rejects('cifar10:train?normalize=mean=0.5,std=0', /std must be positive/);
  rejects('cifar10:train?colour=red', /unknown parameter 'colour'; known: split, val, split-seed, normalize/);
  rejects('cifar10:train?split=val&split=train', /parameter split is given twice/);
});
