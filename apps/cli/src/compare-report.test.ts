import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRuntime, kernelFingerprint } from '@ippro/runtime';
import { numericPathText } from '@ippro/workflow-core';
import type { RunNumericPath } from '@ippro/workflow-core';
import { runCli, sharedDir } from './testing/run-cli';

const fixture = join(sharedDir(), 'fixtures', 'proscore-mlp');
const fixtureData = `json:${join(fixture, 'data.json')}`;
const scratch = mkdtempSync(join(tmpdir(), 'ippro-cli-compare-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** The numeric path of `--backend cpu`, as this process computes its kernel fingerprint (the CLI's is in another process). */
async function cpuNumericPath(): Promise<RunNumericPath> {
  const runtime = await initRuntime({ backend: 'cpu' });
  const { fingerprint, backend, threads, tfjs } = kernelFingerprint({ backend: runtime.backend, threads: runtime.threads });
  assert.deepEqual([backend, threads], ['cpu', 1]);
  return { fingerprint, backend, threads, tfjs };
}

interface SummaryRow {
  criterion: string;
  target: number;
  runs: number;
  top1Pruned: { mean: number; std?: number };
}

test('compare --local writes the tables and the report, and prints the same result', async () => {
  const out = join(scratch, 'compare');
  const result = runCli([
    'compare', '--local', '--model', fixture, '--data', fixtureData, '--criteria', 'proscore,l2,taylor,random',
    '--target-params', '0.2,0.4', '--seeds', '3', '--finetune-steps', '2', '--batch-size', '8', '--backend', 'cpu', '--out', out, '--json',
  ]);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['compare.csv', 'compare.json', 'compare.md', 'report.html', 'report.json']);
  const document = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as {
    numericPath: RunNumericPath;
    summary: SummaryRow[];
    result: { scoring: { passes: number }; rows: unknown[]; numericPath: RunNumericPath };
  };
  assert.deepEqual(JSON.parse(result.stdout), document.result);
  const path = await cpuNumericPath();
  assert.deepEqual(document.numericPath, path, 'compare.json names the numeric path the comparison computed on');
  assert.deepEqual(document.result.numericPath, path);
  assert.equal(document.result.scoring.passes, 1, 'without --scoring-samples every run scores all of --data: one pass');
  assert.equal(document.result.rows.length, 4 * 3 * 2, 'every criterion three times (--seeds 3), at two targets');
  assert.deepEqual(document.summary.map((row) => `${row.criterion}@${row.target}x${row.runs}`), [
    'proscore@0.2x3', 'proscore@0.4x3', 'l2@0.2x3', 'l2@0.4x3', 'taylor@0.2x3', 'taylor@0.4x3', 'random@0.2x3', 'random@0.4x3',
  ]);
  const csv = readFileSync(join(out, 'compare.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 1 + 8, 'header, input model, one line per criterion and target');
  const markdown = readFileSync(join(out, 'compare.md'), 'utf8');
  assert.match(markdown, /\| random \| 40\.00% \| 3 \|/);
  assert.match(markdown, /- command: `ippro compare --local/);
  assert.ok(markdown.includes(`\nnumeric path: ${numericPathText(path)}\n`), markdown);
  const facts = Object.fromEntries((JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { facts: [string, string][] }).facts);
  assert.equal(facts['numeric path'], `cpu, 1 intra-op thread, tfjs ${path.tfjs}, kernel fingerprint ${path.fingerprint}`);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /Chart\.js v4/, 'Chart.js is inline');
  assert.ok(html.includes(path.fingerprint), 'the page names the kernel fingerprint');
  assert.doesNotMatch(html, /<script[^>]+src=/, 'no external script');

  const again = join(scratch, 'again.html');
  const rendered = runCli(['report', out, '--out', again, '--json']);
  assert.equal(rendered.status, 0, rendered.stderr);
  assert.deepEqual(JSON.parse(rendered.stdout), { report: again });
  assert.equal(readFileSync(again, 'utf8'), html, 'the record renders the same report again');
});

test('prune --local writes report.html and report.json next to summary.json, each naming the numeric path the run computed on', async () => {
  const out = join(scratch, 'pruned');
  const result = runCli([
    'prune', '--local', '--model', fixture, '--data', fixtureData, '--target-params', '0.3', '--rounds', '2', '--batch-size', '8', '--backend', 'cpu', '--out', out,
  ]);
  assert.equal(result.status, 0, result.stderr);
  const record = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    kind: string;
    facts: [string, string][];
    table: { rows: string[][] };
    scoring: { round: number; groups: { scores: Record<string, number> }[] };
  };
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { history: { round: number; top1: number }[]; numericPath: RunNumericPath };
  const path = await cpuNumericPath();
  assert.deepEqual(summary.numericPath, path);
  assert.match(summary.numericPath.fingerprint, /^[0-9a-f]{16}$/);
  assert.equal(Object.fromEntries(record.facts)['numeric path'], numericPathText(path));
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes(numericPathText(path)), 'report.html shows the numeric path');
  assert.equal(record.kind, 'prune');
  assert.equal(record.table.rows.length, 1 + summary.history.length);
  assert.equal(record.scoring.round, summary.history.at(-1)?.round, 'the last round\'s scoring pass');
  assert.ok(record.scoring.groups.every((group) => typeof group.scores['proscore'] === 'number' && typeof group.scores['l2'] === 'number'));
  assert.ok(existsSync(join(out, 'report.html')));
});

const badInputs: { name: string; args: string[]; says: RegExp }[] = [
  { name: 'a target outside (0, 1)', args: ['--target-flops', '0.3,1.5'], says: /--target-flops: '1\.5' is not a fraction in \(0, 1\)/ },
  { name: 'an unknown criterion', args: ['--criteria', 'proscore,magnitude'], says: /unknown criterion 'magnitude'/ },
  { name: 'two target metrics', args: ['--target-flops', '0.3', '--target-params', '0.3'], says: /one of --target-flops, --target-params/ },
  { name: 'a bad batch-norm mode', args: ['--batch-norm-mode', 'train'], says: /--batch-norm-mode must be one of inference, batch/ },
];

for (const { name, args, says } of badInputs) {
  test(`compare refuses ${name} (exit 2, nothing written)`, () => {
    const out = join(scratch, `bad-${name.replace(/\W+/g, '-')}`);
    const result = runCli(['compare', '--local', '--model', fixture, '--data', fixtureData, '--backend', 'cpu', '--out', out, ...args]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, says);
    assert.equal(existsSync(out), false);
  });
}

test('report refuses a directory that holds no run record', () => {
  const result = runCli(['report', scratch, '--out', join(scratch, 'none.html')]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /report\.json does not exist/);
  assert.equal(existsSync(join(scratch, 'none.html')), false);
});
