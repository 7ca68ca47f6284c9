import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildChannelGraph, loadLayersModelFromDir, type ChannelGraph, type GroupKind } from '@ippro/graph';
import { accumulateGradStats, type ScoringBatch } from '../accumulate-grad-stats';
import { l1Scores, l2Scores, taylorScores } from '../baselines';
import type { GradStats } from '../grad-stats';
import { groupWeights, type GroupWeights } from '../group-weights';
import { groupNormScores } from '../layer-set-criteria';
import { proscoreFromStats } from '../proscore';
import { Agreement, scoreOf } from './criteria-oracle';
import { workspaceRoot } from './fixture';

/** What libs/importance/oracle/transformer_oracle.py writes for one group. */
interface TransformerOracleGroup {
  id: string;
  kind: GroupKind;
  F_norm: number;
  G: number[];
  r: number;
  dL_dD: number;
  proscore: Record<string, number>;
  l1: number;
  l2: number;
  taylor: number;
  consumerSquaredNorm: number;
  'group-norm': number;
}

interface TransformerOracle {
  loss: number;
  probs: number[];
  groups: TransformerOracleGroup[];
}

interface TransformerData {
  /** Images [height][width][channels]. */
  inputs: number[][][][];
  labels: number[];
  batchSize: number;
}

/** The tiny ViT of libs/importance/test-data/tiny-transformer and its scoring data. */
export interface TransformerFixture {
  model: LayersModel;
  graph: ChannelGraph;
  data: TransformerData;
}

function importanceDir(): string {
  return path.join(workspaceRoot(), 'libs', 'importance');
}

export async function loadTransformerFixture(): Promise<TransformerFixture> {
  const dir = path.join(importanceDir(), 'test-data', 'tiny-transformer');
  const model = await loadLayersModelFromDir(dir);
  const data = JSON.parse(readFileSync(path.join(dir, 'data.json'), 'utf8')) as TransformerData;
  return { model, graph: buildChannelGraph(model), data };
}

/** Batches of the fixture's batch size in file order. */
export function transformerBatches(data: TransformerData): ScoringBatch[] {
  const batches: ScoringBatch[] = [];
  for (let from = 0; from < data.inputs.length; from += data.batchSize) {
    const to = Math.min(data.inputs.length, from + data.batchSize);
    batches.push({
      inputs: tf.tensor(data.inputs.slice(from, to)),
      labels: tf.tensor1d(data.labels.slice(from, to), 'int32'),
    });
  }
  return batches;
}

function readOracle(): TransformerOracle {
  return JSON.parse(readFileSync(path.join(importanceDir(), 'oracle', 'transformer-oracle.json'), 'utf8')) as TransformerOracle;
}

/**
 * The tiny transformer's float64 oracle (transformer_oracle.py: hand-written forward and backward
 * pass) reproduced to 1e-5 relative on the backend `selectBackend` starts: loss, probabilities,
 * and per group (embedding channels, heads, MLP neurons) ||F||, G, r, dL/dD, PROscore at lambda
 * 0.1 and 1, l1, l2, taylor, the consumers' squared norm and group-norm.
 */
export function describeTransformerOracle(backendName: string, selectBackend: () => Promise<void>): void {
  describe(`the tiny transformer's float64 oracle on the ${backendName}`, () => {
    const oracle = readOracle();
    let fixture: TransformerFixture;
    let stats: GradStats;
    let weights: GroupWeights;

    before(async () => {
      await selectBackend();
      fixture = await loadTransformerFixture();
      const batches = transformerBatches(fixture.data);
      stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'tiny-transformer' });
      tf.dispose(batches.flatMap((batch) => [batch.inputs as tf.Tensor, batch.labels]));
      weights = groupWeights(fixture.model, fixture.graph);
    });

    it('scores the oracle groups, each of its kind', () => {
      assert.deepEqual(stats.header.groupIds, oracle.groups.map((group) => group.id));
      assert.deepEqual(weights.groups.map((entry) => entry.group.kind), oracle.groups.map((group) => group.kind));
    });

    it('reproduces the loss and the probabilities', (t) => {
      const agreement = new Agreement();
      const check = agreement.check.bind(agreement);
      check('loss', stats.sumLoss / stats.count, oracle.loss, 'loss');
      const images = tf.tensor(fixture.data.inputs);
      const probabilities = tf.tidy(() => (fixture.model.predict(images) as tf.Tensor).dataSync());
      images.dispose();
      oracle.probs.forEach((value, index) => check('probs', probabilities[index], value, `probs[${index}]`));
      t.diagnostic(`tfjs backend '${tf.getBackend()}'; worst relative error: ${agreement.report()}`);
    });

    it('reproduces ||F||, G, r, dL/dD and PROscore of every group', (t) => {
      const agreement = new Agreement();
      const check = agreement.check.bind(agreement);
      const tables = Object.fromEntries(['0.1', '1.0'].map((lambda) => [lambda, proscoreFromStats(stats, weights, { lambda: Number(lambda) })]));
      oracle.groups.forEach((expected, index) => {
        const row = tables['1.0'].rows[index];
        check('||F||', row.fNorm ?? NaN, expected.F_norm, `${expected.id} ||F||`);
        const largest = Math.max(...expected.G.map(Math.abs));
        assert.equal(stats.sumG[index].length, expected.G.length, `${expected.id} G length`);
        expected.G.forEach((value, k) => check(`G (${expected.kind})`, stats.sumG[index][k] / stats.count, value, `${expected.id} G[${k}]`, largest));
        check(`r (${expected.kind})`, stats.sumR[index] / stats.count, expected.r, `${expected.id} r`);
        check('dL/dD', row.dLdD ?? NaN, expected.dL_dD, `${expected.id} dL/dD`);
        for (const lambda of ['0.1', '1.0']) {
          check(`PROscore (${expected.kind})`, tables[lambda].rows[index].score, expected.proscore[lambda], `${expected.id} PROscore at lambda ${lambda}`);
        }
      });
      t.diagnostic(`worst relative error: ${agreement.report()}`);
    });

    it('reproduces l1, l2, taylor, the consumers and group-norm', (t) => {
      const agreement = new Agreement();
      const check = agreement.check.bind(agreement);
      const [l1, l2, taylor, groupNorm] = [l1Scores(weights), l2Scores(weights), taylorScores(stats, weights), groupNormScores(weights)];
      oracle.groups.forEach((expected, index) => {
        check('l1', scoreOf(l1, expected.id), expected.l1, `${expected.id} l1`);
        check('l2', scoreOf(l2, expected.id), expected.l2, `${expected.id} l2`);
        // |F . G| can cancel (block1_mlp1:7: 9e-4 from terms near 1e-2): float32 rounding scales with sum |F_i G_i|.
        const terms = expected.G.reduce((sum, g, k) => sum + Math.abs(g * weights.groups[index].f[k]), 0);
        check('taylor', scoreOf(taylor, expected.id), expected.taylor, `${expected.id} taylor`, terms);
        check('consumers', weights.groups[index].consumerSquaredNorm, expected.consumerSquaredNorm, `${expected.id} consumers' squared norm`);
        check('group-norm', scoreOf(groupNorm, expected.id), expected['group-norm'], `${expected.id} group-norm`);
      });
      t.diagnostic(`worst relative error: ${agreement.report()}`);
    });
  });
}
