import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { saveLayersModelToDir } from '@ippro/graph';
import { MultiHeadAttention } from '@ippro/layers';
import { runCli, workspaceRoot } from './testing/run-cli';

const workspace = workspaceRoot();
const fixture = join(workspace, 'libs', 'importance', 'test-data', 'tiny-transformer');
const fixtureData = `json:${join(fixture, 'data.json')}`;
const scratch = mkdtempSync(join(tmpdir(), 'ippro-cli-vit-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** Tokens -> Dense -> causal self-attention -> mean over tokens -> softmax: an attention ippro keeps whole. */
async function causalModel(): Promise<string> {
  await tf.setBackend('cpu');
  const tokens = tfl.input({ shape: [5, 6], name: 'tokens' });
  const projected = tfl.layers.dense({ units: 8, name: 'proj' }).apply(tokens) as tfl.SymbolicTensor;
  const attended = new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'mha' }).apply(projected, { useCausalMask: true }) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling1d({ name: 'pool' }).apply(attended);
  const output = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }).apply(pooled) as tfl.SymbolicTensor;
  const dir = join(scratch, 'causal');
  await saveLayersModelToDir(tfl.model({ inputs: tokens, outputs: output }), dir);
  return dir;
}

test('inspect lists a ViT\'s heads, MLP neurons and embedding channels with what each removes', () => {
  const text = runCli(['inspect', fixture]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /groups: \d+ \(26 prunable: 2 head, 16 mlp, 8 embedding\)/);
  assert.match(text.stdout, /block1_attention\/heads\s+MultiHeadAttention\s+attention-heads\s+2\s+2/);
  // One row per kind of group: kind, the layers its units are in, how many, units each, params, FLOPs.
  assert.match(text.stdout, /embedding\s+patch_embed, block1_attention, block1_mlp2\s+8\s+3\s+\d+\s+\d+/);
  assert.match(text.stdout, /head\s+block1_attention\/heads\s+2\s+1\s+140\s+\d+/);
  // An MLP neuron: its column and bias in block1_mlp1 (9), its row in block1_mlp2 (8); 5 tokens x 16 MACs.
  assert.match(text.stdout, /mlp\s+block1_mlp1\s+16\s+1\s+17\s+80/);
  const json = runCli(['inspect', fixture, '--json']);
  const summary = JSON.parse(json.stdout) as { prunableByKind: Record<string, number>; groupCosts: { id: string; kind: string; params: number }[] };
  assert.deepEqual(summary.prunableByKind, { channel: 0, head: 2, mlp: 16, embedding: 8 });
  assert.deepEqual(summary.groupCosts.find((group) => group.id === 'block1_attention/heads:0'), {
    id: 'block1_attention/heads:0', kind: 'head', unitLayers: ['block1_attention/heads'], units: 1, params: 8 * 12 + 12 + 4 * 8, macs: 5 * 8 * 12 + 5 * 5 * 8 + 5 * 4 * 8,
  });
});

test('score reproduces the transformer oracle\'s PROscores through the command line', () => {
  const result = runCli(['score', '--model', fixture, '--data', fixtureData, '--batch-size', '4', '--lambda', '1', '--json', '--backend', 'cpu']);
  assert.equal(result.status, 0, result.stderr);
  const rows = (JSON.parse(result.stdout) as { rows: { id: string; score: number }[] }).rows;
  const oracle = JSON.parse(readFileSync(join(workspace, 'libs', 'importance', 'oracle', 'transformer-oracle.json'), 'utf8')) as { groups: { id: string; proscore: Record<string, number> }[] };
  for (const group of oracle.groups) {
    const row = rows.find((candidate) => candidate.id === group.id);
    const want = group.proscore['1.0'] as number;
    assert.ok(row && Math.abs(row.score - want) <= 1e-5 * Math.abs(want), `${group.id}: ${row?.score} vs ${want}`);
  }
});

test('an attention ippro cannot prune is kept whole with a warning, or refused with --strict-layers', async () => {
  const dir = await causalModel();
  const kept = runCli(['score', '--model', dir, '--criterion', 'l2', '--json', '--backend', 'cpu']);
  assert.equal(kept.status, 0, kept.stderr);
  assert.match(kept.stderr, /ippro: warning: layer 'mha' \(MultiHeadAttention\) is kept whole: it uses a causal mask/);
  const inspected = runCli(['inspect', dir]);
  assert.match(inspected.stdout, /mha\s+MultiHeadAttention\s+frozen\s+8\s+0\s+uses a causal mask/);
  const refusal = /model .*causal: Layer "mha" \(class MultiHeadAttention\) is not supported by the channel graph: it uses a causal mask/;
  for (const args of [
    ['score', '--model', dir, '--criterion', 'l2', '--strict-layers'],
    ['inspect', dir, '--strict-layers'],
    ['prune', '--local', '--model', dir, '--data', fixtureData, '--target-flops', '0.2', '--strict-layers', '--out', join(scratch, 'never')],
  ]) {
    const result = runCli([...args, '--backend', 'cpu']);
    assert.equal(result.status, 2, `${args[0]}: ${result.stderr}`);
    assert.match(result.stderr, refusal, args[0]);
  }
});

test('--group-kinds chooses what a run removes, and names the kinds it knows', () => {
  const out = join(scratch, 'heads-and-mlp');
  const result = runCli([
    'prune', '--local', '--model', fixture, '--data', fixtureData, '--criterion', 'l2', '--target-flops', '0.2',
    '--group-kinds', 'head,mlp', '--batch-size', '4', '--backend', 'cpu', '--out', out, '--json',
  ]);
  assert.equal(result.status, 0, result.stderr);
  const inspected = JSON.parse(runCli(['inspect', out, '--json']).stdout) as { layers: { name: string; channels: number }[] };
  const width = (name: string) => inspected.layers.find((layer) => layer.name === name)?.channels;
  assert.equal(width('patch_embed'), 8, 'the residual stream keeps its width');
  assert.ok((width('block1_mlp1') ?? 16) < 16, 'MLP neurons went');
  const bad = runCli(['prune', '--local', '--model', fixture, '--data', fixtureData, '--target-flops', '0.2', '--group-kinds', 'heads', '--out', join(scratch, 'never2')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--group-kinds.*one of channel, head, mlp, embedding/);
});
