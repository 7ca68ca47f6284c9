import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { accumulateGradStats } from '../accumulate-grad-stats';
import { fisherScores, taylorBatchScores } from '../baselines';
import type { GradStats } from '../grad-stats';
import { groupWeights } from '../group-weights';
import type { GroupWeights } from '../group-weights';
import { fpgmScores, groupNormScores, lampScores } from '../layer-set-criteria';
import { proscoreFromStats } from '../proscore';
import type { ProscoreOptions } from '../proscore';
import { proscoreTrajectory } from '../proscore-trajectory';
import type { ScoreTable } from '../score-table';
import type { Fixture } from './fixture';
import { disposeBatches, loadFixture, makeBatches, relativeError, workspaceRoot } from './fixture';

/** What libs/importance/oracle/criteria_oracle.py writes for one group. */
export interface OracleGroup {
  id: string;
  batch: { fDotG: number[]; gSquaredNorm: number[]; r: number[] };
  sumSquaredG: number[];
  consumerSquaredNorm: number;
  'taylor-batch': number;
  fisher: number;
  'group-norm': number;
  lamp: number;
  fpgm: number;
  proscore: {
    pooled: Record<string, number>;
    'per-batch': Record<string, number>;
    descending: Record<string, number>;
    'weight-decay': Record<string, number>;
    'per-batch-weight-decay': Record<string, number>;
    trajectory: Record<string, { score: number; fNorm: number; d: number | null }>;
  };
}

export interface CriteriaOracle {
  settings: {
    batchSize: number;
    lambdas: string[];
    weightDecay: number;
    trajectory: { learningRate: number; momentum: number; weightDecay: number; steps: number[] };
  };
  batchSizes: number[];
  groups: OracleGroup[];
}

/** Every number is reproduced to this relative error (float32 passes against a float64 oracle). */
export const ORACLE_TOLERANCE = 1e-5;
/** Exact zeros of the oracle (the dead group) compare absolutely below this. */
const ZERO_FLOOR = 1e-12;

export function readCriteriaOracle(): CriteriaOracle {
  const file = path.join(workspaceRoot(), 'libs', 'importance', 'oracle', 'criteria-oracle.json');
  return JSON.parse(readFileSync(file, 'utf8')) as CriteriaOracle;
}

/** The worst relative error seen per quantity, checked against the tolerance as it goes. */
export class Agreement {
  readonly worst = new Map<string, number>();

  check(quantity: string, actual: number, expected: number, what: string, floor = ZERO_FLOOR): void {
    const error = relativeError(actual, expected, floor);
    this.worst.set(quantity, Math.max(this.worst.get(quantity) ?? 0, error));
    assert.ok(error <= ORACLE_TOLERANCE, `${what}: got ${actual}, oracle ${expected} (relative error ${error})`);
  }

  /** Each entry relative to the largest of the vector (some entries cancel to float32 noise). */
  checkVector(quantity: string, actual: ArrayLike<number>, expected: readonly number[], what: string): void {
    assert.equal(actual.length, expected.length, `${what}: length`);
    const scale = Math.max(...expected.map(Math.abs), ZERO_FLOOR);
    expected.forEach((value, index) => this.check(quantity, actual[index], value, `${what}[${index}]`, scale));
  }

  report(): string {
    return [...this.worst].map(([quantity, error]) => `${quantity} ${error.toExponential(1)}`).join(', ');
  }
}

export function scoreOf(table: ScoreTable, id: string): number {
  const row = table.rows.find((candidate) => candidate.id === id);
  assert.ok(row, `group ${id} missing from the ${table.method} table`);
  return row.score;
}

/**
 * The oracle's criteria and readings reproduced on the backend `selectBackend` activates:
 * statistics of the 32 fixture samples in batches of 8, then every table of the oracle.
 */
export function describeCriteriaOracle(backend: string, selectBackend: () => Promise<void>): void {
  describe(`criteria and PROscore readings against the float64 oracle (${backend})`, () => {
    const oracle = readCriteriaOracle();
    let fixture: Fixture;
    let stats: GradStats;
    let weights: GroupWeights;

    before(async () => {
      fixture = await loadFixture(selectBackend);
      const batches = makeBatches(fixture.data, 0, fixture.data.inputs.length, oracle.settings.batchSize);
      stats = await accumulateGradStats(fixture.model, fixture.graph, batches, { datasetId: 'proscore-mlp' });
      disposeBatches(batches);
      weights = groupWeights(fixture.model, fixture.graph);
    });

    it('per-batch statistics: sizes, F.G_b, ||G_b||^2, r_b and the weighted squared gradients', (t) => {
      const agreement = new Agreement();
      const batches = stats.batches;
      assert.ok(batches, 'the pass records per-batch statistics');
      assert.deepEqual(batches.sizes, oracle.batchSizes);
      assert.deepEqual(stats.header.groupIds, oracle.groups.map((group) => group.id));
      oracle.groups.forEach((expected, index) => {
        agreement.checkVector('F.G_b', batches.fDotG[index], expected.batch.fDotG, `${expected.id} F.G_b`);
        agreement.checkVector('||G_b||^2', batches.gSquaredNorm[index], expected.batch.gSquaredNorm, `${expected.id} ||G_b||^2`);
        agreement.checkVector('r_b', batches.r[index], expected.batch.r, `${expected.id} r_b`);
        agreement.checkVector('sum n_b G_b^2', batches.sumSquaredG[index], expected.sumSquaredG, `${expected.id} sumSquaredG`);
      });
      t.diagnostic(`tfjs backend '${tf.getBackend()}'; worst relative error: ${agreement.report()}`);
    });

    it('taylor-batch, fisher, group-norm, lamp and fpgm (and the consumers\' squared norms)', (t) => {
      const agreement = new Agreement();
      const tables = {
        'taylor-batch': taylorBatchScores(stats, weights),
        fisher: fisherScores(stats, weights),
        'group-norm': groupNormScores(weights),
        lamp: lampScores(weights),
        fpgm: fpgmScores(weights),
      };
      for (const expected of oracle.groups) {
        const entry = weights.groups.find((candidate) => candidate.group.id === expected.id);
        assert.ok(entry);
        agreement.check('consumer squared norm', entry.consumerSquaredNorm, expected.consumerSquaredNorm, `${expected.id} consumer squared norm`);
        for (const [name, table] of Object.entries(tables)) {
          agreement.check(name, scoreOf(table, expected.id), expected[name as keyof typeof tables], `${expected.id} ${name}`);
        }
      }
      t.diagnostic(`worst relative error: ${agreement.report()}`);
    });

    it('PROscore pooled, per-batch, descending and with weight decay, at each lambda', (t) => {
      const agreement = new Agreement();
      const readings: Record<Exclude<keyof OracleGroup['proscore'], 'trajectory'>, Omit<ProscoreOptions, 'lambda'>> = {
        pooled: {},
        'per-batch': { reading: 'per-batch' },
        descending: { order: 'descending' },
        'weight-decay': { weightDecay: oracle.settings.weightDecay },
        'per-batch-weight-decay': { reading: 'per-batch', weightDecay: oracle.settings.weightDecay },
      };
      for (const lambda of oracle.settings.lambdas) {
        for (const [name, options] of Object.entries(readings) as [keyof typeof readings, Omit<ProscoreOptions, 'lambda'>][]) {
          const table = proscoreFromStats(stats, weights, { lambda: Number(lambda), ...options });
          assert.equal(table.order, options.order ?? 'ascending');
          assert.equal(table.reading, options.reading ?? 'pooled');
          for (const expected of oracle.groups) {
            const value = expected.proscore[name][lambda];
            agreement.check(`proscore ${name}`, scoreOf(table, expected.id), value, `${expected.id} proscore ${name} lambda ${lambda}`);
          }
        }
      }
      t.diagnostic(`worst relative error: ${agreement.report()}`);
    });

    it('PROscore trajectory: T steps of SGD with momentum and weight decay from the lifted point', async (t) => {
      const agreement = new Agreement();
      const settings = oracle.settings.trajectory;
      for (const steps of settings.steps) {
        const batches = makeBatches(fixture.data, 0, fixture.data.inputs.length, oracle.settings.batchSize);
        const table = await proscoreTrajectory(fixture.model, fixture.graph, batches, {
          steps,
          learningRate: settings.learningRate,
          momentum: settings.momentum,
          weightDecay: settings.weightDecay,
        });
        disposeBatches(batches);
        assert.equal(table.reading, 'trajectory');
        for (const expected of oracle.groups) {
          agreement.check(`trajectory T=${steps}`, scoreOf(table, expected.id), expected.proscore.trajectory[String(steps)].score, `${expected.id} trajectory T=${steps}`);
        }
      }
      t.diagnostic(`worst relative error: ${agreement.report()}`);
    });
  });
}
