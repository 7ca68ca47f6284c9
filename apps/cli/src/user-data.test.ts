import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { int64Bytes, npzBytes } from '@ippro/data';
import type { NpyEntry } from '@ippro/data';
import { saveLayersModelToDir } from '@ippro/graph';
import { buildSmallCnn } from '@ippro/models';
import { initRuntime } from '@ippro/runtime';
import { PNG } from 'pngjs';
import { runCli } from './testing/run-cli';

/**
 * User data and model outputs through the `ippro` command: image folders and npz files, models
 * ending in logits or a sigmoid, and every kind of bad data refused with exit code 2 and one line
 * naming the file and the reason, before any work (nothing is written).
 */
const scratch = mkdtempSync(join(tmpdir(), 'ippro-user-data-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const rgbModel = join(scratch, 'rgb-model');
const reluModel = join(scratch, 'relu-model');
const binaryModel = join(scratch, 'binary-model');
const logitsModel = join(scratch, 'logits-model');
const softmaxTwin = join(scratch, 'softmax-twin');

/** A PNG of `channels` (1 grayscale, 3 RGB) at 6x6 whose pixels depend on `seed`. */
function png(seed: number, channels: 1 | 3 = 3): Buffer {
  const image = new PNG({ width: 6, height: 6 });
  for (let p = 0; p < image.data.length; p += 1) image.data[p] = p % 4 === 3 ? 255 : channels === 1 ? (seed * 31 + Math.floor(p / 4) * 7) % 256 : (seed * 31 + p * 7) % 256;
  return PNG.sync.write(image, { colorType: channels === 1 ? 0 : 2 });
}

/** An image folder: `classes` sub-folders of two images each, then `extra` files (relative path -> bytes). */
function imageFolder(name: string, classes: readonly string[], extra: Record<string, Buffer> = {}): string {
  const root = join(scratch, name);
  classes.forEach((folder, label) => {
    mkdirSync(join(root, folder), { recursive: true });
    for (let i = 0; i < 2; i += 1) writeFileSync(join(root, folder, `${i}.png`), png(label * 2 + i));
  });
  for (const [path, bytes] of Object.entries(extra)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes);
  }
  return root;
}

const samples = (count: number): NpyEntry => ({ dtype: '|u1', shape: [count, 4, 4, 3], data: Uint8Array.from({ length: count * 48 }, (_, i) => (i * 13) % 256) });
const classLabels = (values: number[]): NpyEntry => ({ dtype: '<i8', shape: [values.length], data: int64Bytes(values) });

function npzFile(name: string, bytes: Uint8Array): string {
  const path = join(scratch, `${name}.npz`);
  writeFileSync(path, bytes);
  return path;
}

before(async () => {
  await initRuntime({ backend: 'cpu' });
  const rgb = buildSmallCnn({ widths: [4, 8], numClasses: 3, seed: 1, inputShape: [4, 4, 3] });
  await saveLayersModelToDir(rgb, rgbModel);
  rgb.dispose();
  const binary = buildSmallCnn({ widths: [4, 8], numClasses: 1, seed: 2, inputShape: [4, 4, 3], output: 'sigmoid' });
  await saveLayersModelToDir(binary, binaryModel);
  binary.dispose();
  const input = tfl.input({ shape: [4, 4, 3] });
  const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  const relu = tfl.layers.dense({ units: 3, activation: 'relu', name: 'scores' }).apply(flat) as tfl.SymbolicTensor;
  await saveLayersModelToDir(tfl.model({ inputs: input, outputs: relu }), reluModel);
  const logits = buildSmallCnn({ widths: [4, 8], numClasses: 3, seed: 5, inputShape: [4, 4, 3], output: 'logits' });
  await saveLayersModelToDir(logits, logitsModel);
  const probabilities = tfl.layers.activation({ activation: 'softmax', name: 'probabilities' }).apply(logits.outputs[0] as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  await saveLayersModelToDir(tfl.model({ inputs: logits.inputs, outputs: probabilities }), softmaxTwin);
  logits.dispose();
});

function pruneArgs(model: string, data: string, out: string): string[] {
  return ['prune', '--local', '--model', model, '--data', data, '--target-channels', '0.3', '--batch-size', '2', '--backend', 'cpu', '--out', out];
}

/** Exit code 2, one `ippro: ...` line saying `says` (backend and classes lines aside), and no --out. */
function assertRefused(args: string[], says: string | RegExp): void {
  const out = args[args.indexOf('--out') + 1] as string;
  const result = runCli(args);
  assert.equal(result.status, 2, `${result.stdout}\n${result.stderr}`);
  const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: ') && !line.startsWith('classes: '));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] ?? '', /^ippro: /);
  if (typeof says === 'string') assert.ok((lines[0] ?? '').includes(says), lines[0]);
  else assert.match(lines[0] ?? '', says);
  assert.equal(existsSync(out), false, `${out} was written`);
}

const out = (name: string): string => join(scratch, 'out', name);

test('an empty class folder is refused, naming the folder', () => {
  const root = imageFolder('empty-class', ['cat', 'dog'], { 'bird/notes.txt': Buffer.from('no images here') });
  assertRefused(pruneArgs(rgbModel, `images:${root}`, out('empty-class')), `class folder ${join(root, 'bird')} holds no images`);
});

test('an undecodable image is refused, naming the file', () => {
  const root = imageFolder('undecodable', ['cat', 'dog'], { 'dog/broken.png': png(9).subarray(0, 50) });
  assertRefused(pruneArgs(rgbModel, `images:${root}`, out('undecodable')), `image ${join(root, 'dog', 'broken.png')} cannot be decoded`);
});

test('an image whose channels do not match the model is refused, naming the file; convert=true converts it', () => {
  const root = imageFolder('gray', ['cat', 'dog', 'owl'], { 'owl/gray.png': png(5, 1) });
  assertRefused(pruneArgs(rgbModel, `images:${root}`, out('gray')), `image ${join(root, 'owl', 'gray.png')} has 1 channel (grayscale), but the samples have 3 channels (RGB)`);
  const converted = runCli(['eval', '--model', rgbModel, '--data', `images:${root}?convert=true`, '--backend', 'cpu']);
  assert.equal(converted.status, 0, converted.stderr);
  assert.match(converted.stdout, /: top-1 accuracy \d+\.\d\d% \(\d\/7\)/);
  assert.match(converted.stderr, /classes: cat=0, dog=1, owl=2/);
});

test('npz: mismatched x and y lengths are refused, naming the file and the arrays', () => {
  const path = npzFile('mismatched', npzBytes({ x: samples(4), y: classLabels([0, 1, 2]) }));
  assertRefused(pruneArgs(rgbModel, `npz:${path}`, out('mismatched')), `npz file ${path}: array x holds 4 samples but array y 3 labels`);
});

test('npz: labels outside the classes are refused, naming the file, the array and the label', () => {
  const dir = join(scratch, 'named');
  mkdirSync(dir);
  const path = join(dir, 'data.npz');
  writeFileSync(path, npzBytes({ x: samples(4), y: classLabels([0, 1, 3, 1]) }));
  writeFileSync(join(dir, 'ippro-data.json'), JSON.stringify({ classes: ['a', 'b', 'c'] }));
  assertRefused(pruneArgs(rgbModel, `npz:${path}`, out('outside')), `npz file ${path}: array y: label 2 is 3, outside the classes`);
  rmSync(join(dir, 'ippro-data.json'));
  assertRefused(pruneArgs(rgbModel, `npz:${path}`, out('outside-model')), /model .* does not fit --data npz:.*: the model outputs \[3\] values, but .* has 4 classes/);
});

test('npz: a missing array is refused, naming the file and the arrays it has', () => {
  const path = npzFile('missing', npzBytes({ x: samples(4), labels: classLabels([0, 1, 2, 1]) }));
  assertRefused(pruneArgs(rgbModel, `npz:${path}`, out('missing')), `npz file ${path} has no array 'y' (its arrays: x, labels)`);
});

test('npz: a corrupt zip is refused, naming the file', () => {
  const good = npzBytes({ x: samples(4), y: classLabels([0, 1, 2, 1]) }, 'deflated');
  const path = npzFile('corrupt', good.subarray(0, good.length - 30));
  assertRefused(pruneArgs(rgbModel, `npz:${path}`, out('corrupt')), `npz file ${path} is not a readable zip archive`);
});

test('a model whose output ippro cannot score is refused, naming the output layer', () => {
  const data = npzFile('good', npzBytes({ x: samples(6), y: classLabels([0, 1, 2, 1, 0, 2]) }));
  assertRefused(pruneArgs(reluModel, `npz:${data}`, out('relu')), `model ${reluModel}: output layer 'scores' (Dense) has activation relu`);
  assertRefused([...pruneArgs(rgbModel, `npz:${data}`, out('contradiction')), '--output', 'logits'], `model ${rgbModel}: output kind logits contradicts the model: output layer 'classifier' (Dense) has activation softmax`);
  const score = runCli(['score', '--model', reluModel, '--data', `npz:${data}`, '--backend', 'cpu']);
  assert.equal(score.status, 2);
  assert.match(score.stderr, /output layer 'scores' \(Dense\) has activation relu/);
  const kind = runCli(['eval', '--model', rgbModel, '--data', `npz:${data}`, '--output', 'softmax', '--backend', 'cpu']);
  assert.equal(kind.status, 2);
  assert.match(kind.stderr, /--output must be one of auto, probabilities, logits, sigmoid, got 'softmax'/);
});

test('ippro score: a model ending in logits and its twin with a softmax layer appended get the same scores (1e-5)', () => {
  const data = npzFile('twins', npzBytes({ x: samples(12), y: classLabels([0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2]) }));
  const scoresOf = (model: string, kind: string): Map<string, number> => {
    const scored = runCli(['score', '--model', model, '--data', `npz:${data}`, '--batch-size', '4', '--json', '--backend', 'cpu']);
    assert.equal(scored.status, 0, scored.stderr);
    const document = JSON.parse(scored.stdout) as { output: string; rows: { id: string; score: number }[] };
    assert.equal(document.output, kind, `${model} is read as ${kind}`);
    return new Map(document.rows.map((row) => [row.id, row.score]));
  };
  const logits = scoresOf(logitsModel, 'logits');
  const twin = scoresOf(softmaxTwin, 'probabilities');
  assert.ok(logits.size > 0);
  assert.deepEqual([...logits.keys()], [...twin.keys()]);
  for (const [id, score] of logits) {
    const other = twin.get(id) as number;
    assert.ok(Math.abs(score - other) <= 1e-5 * Math.max(Math.abs(other), 1e-12) || Math.abs(score - other) < 1e-9, `${id}: ${score} vs ${other}`);
  }
});

test('a binary sigmoid model is evaluated by exact match, scored, pruned and recorded as sigmoid', () => {
  const data = npzFile('binary', npzBytes({ x: samples(8), y: classLabels([0, 1, 1, 0, 1, 0, 0, 1]) }));
  const evaluated = runCli(['eval', '--model', binaryModel, '--data', `npz:${data}`, '--backend', 'cpu']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /: exact match accuracy \d+\.\d\d% \(\d\/8\), loss \d+\.\d{4}\n$/);
  const scored = runCli(['score', '--model', binaryModel, '--data', `npz:${data}`, '--batch-size', '4', '--json', '--backend', 'cpu']);
  assert.equal(scored.status, 0, scored.stderr);
  const rows = (JSON.parse(scored.stdout) as { rows: { score: number | string }[] }).rows;
  assert.ok(rows.length > 0 && rows.every((row) => typeof row.score === 'number' && Number.isFinite(row.score)), scored.stdout);
  const pruned = runCli([...pruneArgs(binaryModel, `npz:${data}`, out('binary')), '--finetune-steps', '2']);
  assert.equal(pruned.status, 0, pruned.stderr);
  assert.match(pruned.stdout, /exact match/);
  const summary = JSON.parse(readFileSync(join(out('binary'), 'summary.json'), 'utf8')) as { output: string };
  assert.equal(summary.output, 'sigmoid');
  assert.match(readFileSync(join(out('binary'), 'report.json'), 'utf8'), /"model output",\s*"sigmoid: binary cross-entropy per unit, exact match at 0.5"/);  // Distillation matches class distributions; a sigmoid's units are independent probabilities.
  assertRefused([...pruneArgs(binaryModel, `npz:${data}`, out('binary-distilled')), '--finetune-steps', '2', '--distill-weight', '0.5'], /--distill-weight: distillation needs a softmax output \(probabilities or logits\)/);
});

test('train --output sigmoid builds a one-unit sigmoid for two classes and labels its accuracy', () => {
  const data = npzFile('train-binary', npzBytes({ x: samples(8), y: classLabels([0, 1, 1, 0, 1, 0, 0, 1]) }));
  const runDir = join(scratch, 'train-binary');
  const trained = runCli(['train', '--arch', 'mlp', '--data', `npz:${data}`, '--epochs', '1', '--batch', '4', '--output', 'sigmoid', '--normalize', 'mean=0.5,std=0.25', '--out', runDir, '--backend', 'cpu']);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /train exact match/);
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { output: string; data: { train: string } };
  assert.equal(summary.output, 'sigmoid');
  assert.match(summary.data.train, /normalize=mean=0.5,std=0.25/);
  const model = JSON.parse(readFileSync(join(runDir, 'model', 'model.json'), 'utf8')) as { modelTopology: unknown };
  assert.match(JSON.stringify(model.modelTopology), /"units":1,"activation":"sigmoid"/);
});
