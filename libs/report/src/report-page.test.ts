import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { runCompareInProcess, runPruneInProcess } from '@ippro/activities';
import { EVALUATION_SPEC, SCORING_SPEC, TUNING_SPEC, putTinyModel, tinyInput } from '@ippro/activities/testing';
import { ArtifactStore } from '@ippro/artifact-store';
import type { CompareInput, CompareResult } from '@ippro/compare';
import type { PruneWorkflowResult } from '@ippro/workflow-core';
import { buildCompareRecord } from './compare-record';
import { buildPruneRecord } from './prune-record';
import { renderReportHtml } from './render-report';
import type { RunRecord } from './run-record';
import { findChromium } from './testing/chromium';

const found = findChromium();
const skip = found.path === undefined ? `no Chromium executable (looked at ${found.looked.join(', ')}; set IPPRO_CHROMIUM)` : false;
if (skip !== false) console.log(`# skipping the report page tests: ${skip}`);

interface CanvasState {
  id: string;
  painted: number;
  pixels: number;
  distinctColours: number;
  hasChart: boolean;
}

interface PageState {
  errors: string[];
  foreignRequests: string[];
  canvases: CanvasState[];
  table: string[][];
  headers: string[];
  config: string[][];
}

/** Runs in the page (the tests compile without DOM types): what every canvas holds. */
const CANVAS_PROBE = `[...document.querySelectorAll('canvas')].map((canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let painted = 0;
  for (let index = 0; index < data.length; index += 4) {
    if (data[index + 3] > 0) {
      painted += 1;
      colours.add((data[index] << 16) | (data[index + 1] << 8) | data[index + 2]);
    }
  }
  return { id: canvas.id, painted, pixels: canvas.width * canvas.height, distinctColours: colours.size, hasChart: window.Chart.getChart(canvas) !== undefined };
})`;

let dir: string;
let store: ArtifactStore;
let browser: Browser | undefined;

/** Opens a report in headless Chromium and reads back what it drew. */
async function openReport(record: RunRecord, name: string): Promise<PageState> {
  const file = join(dir, `${name}.html`);
  await writeFile(file, renderReportHtml(record));
  const page = await (browser as Browser).newPage();
  const errors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:') && !request.url().startsWith('data:')) foreignRequests.push(request.url());
  });
  try {
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
    const canvases = (await page.evaluate(CANVAS_PROBE)) as CanvasState[];
    const headers = await page.$$eval('#results-table thead th', (cells) => cells.map((cell) => cell.textContent ?? ''));
    const table = await page.$$eval('#results-table tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
    const config = await page.$$eval('#config-table tr', (rows) => rows.slice(1).map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
    return { errors, foreignRequests, canvases, table, headers, config };
  } finally {
    await page.close();
  }
}

/** A histogram for every criterion a scoring pass with per-batch statistics gives: all but random. */
const EVERY_HISTOGRAM = ['proscore', 'l1', 'l2', 'taylor', 'taylor-batch', 'fisher', 'bn', 'group-norm', 'lamp', 'fpgm'].map((name) => `chart-histogram-${name}`);

function assertDrawn(state: PageState, expectedIds: readonly string[]): void {
  assert.deepEqual(state.errors, [], 'no console errors');
  assert.deepEqual(state.foreignRequests, [], 'nothing fetched from outside the page');
  assert.deepEqual(state.canvases.map((canvas) => canvas.id).sort(), [...expectedIds].sort());
  for (const canvas of state.canvases) {
    assert.ok(canvas.hasChart, `${canvas.id} holds a chart`);
    assert.ok(canvas.painted > canvas.pixels * 0.01, `${canvas.id} is not blank: ${canvas.painted} of ${canvas.pixels} pixels painted`);
    assert.ok(canvas.distinctColours >= 3, `${canvas.id} draws in several colours (${canvas.distinctColours})`);
  }
}

/** "73.05%" -> 73.05 */
function percentCell(cell: string | undefined): number {
  const match = /^(-?[0-9.]+)%/.exec(cell ?? '');
  assert.ok(match, `'${cell}' is a percentage`);
  return Number(match[1]);
}

before(async () => {
  if (skip !== false) return;
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ippro-report-'));
  store = await ArtifactStore.open({ root: join(dir, 'store') });
  browser = await chromium.launch({ executablePath: found.path, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the HTML report in headless Chromium', { skip }, () => {
  it('of a prune run: loads without errors, draws every plot, and its table equals the run summary', async () => {
    const modelId = await putTinyModel(store, 5);
    const input = tinyInput(modelId, { shards: { batchShards: 2, layerShards: 2, evaluationShards: 1, maxParallel: 2 } });
    const result = await runPruneInProcess(input, { store });
    const config = { model: 'models/tiny', rounds: 2, 'ignore-layers': ['conv1', 'dense'], 'api-key': '<redacted>' };
    const record = await buildPruneRecord(result, { input, read: (id) => store.get(id), config });
    // The summary as `ippro prune` writes it (summary.json), read back as plain JSON.
    const summary = JSON.parse(JSON.stringify(result)) as PruneWorkflowResult;
    const state = await openReport(record, 'prune');

    assert.deepEqual(state.config, [['model', 'models/tiny'], ['rounds', '2'], ['ignore-layers', 'conv1, dense'], ['api-key', '<redacted>']], 'the configuration table');
    assertDrawn(state, ['chart-accuracy', 'chart-widths-0', 'chart-proscore-l2', ...EVERY_HISTOGRAM]);
    const rounds = [summary.baseline, ...summary.history];
    assert.equal(state.table.length, rounds.length);
    rounds.forEach((metrics, index) => {
      const cells = state.table[index] ?? [];
      const cell = (header: string): string | undefined => cells[state.headers.indexOf(header)];
      assert.equal(cell('round'), String(metrics.round));
      assert.equal(cell('params'), String(metrics.params));
      assert.equal(cell('FLOPs'), String(metrics.flops));
      assert.equal(cell('groups removed'), String(metrics.removedGroups));
      assert.ok(Math.abs(percentCell(cell('top-1')) - metrics.top1 * 100) <= 0.005 + 1e-9, `round ${metrics.round} top-1`);
      assert.ok(Math.abs(percentCell(cell('FLOPs kept')) - (metrics.flops / summary.baseline.flops) * 100) <= 0.005 + 1e-9);
    });
    const scoredGroups = record.scoring?.groups.length ?? 0;
    assert.ok(scoredGroups > 0 && record.scoring?.round === summary.history.length, 'the last round\'s scoring pass');
  });

  it('of a comparison: loads without errors, draws every plot, and its table equals the comparison result', async () => {
    const modelId = await putTinyModel(store, 6);
    const input: CompareInput = {
      modelArtifactId: modelId,
      criteria: ['proscore', 'l2', 'taylor', 'random'],
      targets: [0.3, 0.5],
      scoring: { dataset: { spec: SCORING_SPEC }, batchSize: 8 },
      fineTune: { dataset: { spec: TUNING_SPEC }, batchSize: 4, steps: 2, learningRate: 0.05 },
      evaluation: { dataset: { spec: EVALUATION_SPEC }, batchSize: 8 },
      randomSeeds: 3,
      seed: 1,
    };
    const result = await runCompareInProcess(input, { store });
    const record = await buildCompareRecord(result, { input, read: (id) => store.get(id) });
    const saved = JSON.parse(JSON.stringify(result)) as CompareResult;
    const state = await openReport(record, 'compare');

    assertDrawn(state, ['chart-accuracy', 'chart-widths-0', 'chart-widths-1', 'chart-proscore-l2', ...EVERY_HISTOGRAM]);
    assert.equal(state.table.length, 1 + saved.criteria.length * saved.targets.length);
    assert.ok(Math.abs(percentCell(state.table[0]?.[state.headers.indexOf('top-1 pruned')]) - saved.baseline.top1 * 100) <= 0.005 + 1e-9);
    for (const criterion of saved.criteria) {
      for (const target of saved.targets) {
        const runs = saved.rows.filter((row) => row.criterion === criterion && row.target === target);
        const line = state.table.find((cells) => cells[0] === criterion && percentCell(cells[1]) === target * 100);
        assert.ok(line, `a row for ${criterion} at ${target}`);
        assert.equal(line[state.headers.indexOf('runs')], String(runs.length));
        const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
        const pruned = mean(runs.map((run) => run.pruned.top1)) * 100;
        const tuned = mean(runs.map((run) => run.tuned?.top1 ?? Number.NaN)) * 100;
        assert.ok(Math.abs(percentCell(line[state.headers.indexOf('top-1 pruned')]) - pruned) <= 0.005 + 1e-9, `${criterion} ${target} pruned`);
        assert.ok(Math.abs(percentCell(line[state.headers.indexOf('top-1 after 2 steps')]) - tuned) <= 0.005 + 1e-9, `${criterion} ${target} tuned`);
        if (criterion === 'random') assert.match(line[state.headers.indexOf('top-1 pruned')] ?? '', /± [0-9.]+$/, 'random shows its spread over seeds');
      }
    }
  });
});
