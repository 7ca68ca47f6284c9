import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ChannelGraph } from '@ippro/graph';
import { buildChannelGraph, loadLayersModelFromDir } from '@ippro/graph';
import { accumulateGradStats } from '../accumulate-grad-stats';
import type { AccumulateGradStatsOptions, ScoringBatch } from '../accumulate-grad-stats';
import type { GradStats } from '../grad-stats';

export interface ExpectedGroup {
  id: string;
  members: string[];
  F_norm: number;
  G: number[];
  r: number;
  dL_dD: number | null;
  proscore: Record<string, number>;
  l1: number;
  l2: number;
  taylor: number;
  bn_scale: number;
}

export interface Expected {
  loss: number;
  probs: number[];
  groups: ExpectedGroup[];
}

export interface FixtureData {
  inputs: number[][];
  labels: number[];
  batchSize: number;
}

export interface Fixture {
  dir: string;
  model: LayersModel;
  graph: ChannelGraph;
  data: FixtureData;
  expected: Expected;
}

/** The workspace root: the nearest ancestor of this file holding nx.json. */
export function workspaceRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no nx.json above ${from}`);
    }
    dir = parent;
  }
  return dir;
}

export function fixtureDir(): string {
  return path.join(workspaceRoot(), '..', 'shared', 'fixtures', 'proscore-mlp');
}

function readJson<T>(dir: string, name: string): T {
  return JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as T;
}

export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
}

/** The fixture, on the cpu backend unless `selectBackend` chooses another. */
export async function loadFixture(selectBackend: () => Promise<void> = useCpuBackend): Promise<Fixture> {
  await selectBackend();
  const dir = fixtureDir();
  const model = await loadLayersModelFromDir(dir);
  return {
    dir,
    model,
    graph: buildChannelGraph(model),
    data: readJson<FixtureData>(dir, 'data.json'),
    expected: readJson<Expected>(dir, 'expected.json'),
  };
}

/** Batches of at most `batchSize` over samples [start, end) in file order. */
export function makeBatches(data: FixtureData, start: number, end: number, batchSize: number): ScoringBatch[] {
  const batches: ScoringBatch[] = [];
  for (let from = start; from < end; from += batchSize) {
    const to = Math.min(end, from + batchSize);
    batches.push({
      inputs: tf.tensor2d(data.inputs.slice(from, to)),
      labels: tf.tensor1d(data.labels.slice(from, to), 'int32'),
    });
  }
  return batches;
}

export function disposeBatches(batches: readonly ScoringBatch[]): void {
  for (const batch of batches) {
    tf.dispose(batch.inputs);
    batch.labels.dispose();
  }
}

/**
 * Statistics of samples [start, end) of the fixture in batches of its batch size, as a shard of
 * dataset 'proscore-mlp' of model 'fixture' would compute them.
 */
export async function statsOver(fixture: Fixture, start: number, end: number, options: Partial<AccumulateGradStatsOptions> = {}): Promise<GradStats> {
  const batches = makeBatches(fixture.data, start, end, fixture.data.batchSize);
  try {
    return await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'proscore-mlp', sampleStart: start, modelHash: 'fixture', ...options });
  } finally {
    disposeBatches(batches);
  }
}

/** |actual - expected| relative to max(|expected|, floor); 0 when both are the same (Infinity included). */
export function relativeError(actual: number, expected: number, floor = 0): number {
  if (actual === expected) {
    return 0;
  }
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), floor);
}

/** Relative closeness with a floor, so exact zeros in the oracle compare absolutely. */
export function isClose(actual: number, expected: number, relative: number, floor = 0): boolean {
  return relativeError(actual, expected, floor) <= relative;
}

export function assertClose(actual: number, expected: number, relative: number, what: string, floor = 0): void {
  if (!isClose(actual, expected, relative, floor)) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (relative tolerance ${relative})`);
  }
}
