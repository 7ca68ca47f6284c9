import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PruneWorkflowResult, RoundMetrics } from '@ippro/workflow-core';
import { keepDecision, resultMetrics } from './keep-decision';
import { keptDirName } from './kept-dir-name';

const round = (index: number, top1: number, flops: number): RoundMetrics => ({
  round: index,
  modelArtifactId: String(index).repeat(64).slice(0, 64),
  params: flops * 2,
  flops,
  channels: 10,
  top1,
  loss: 1,
  evaluated: 1000,
  removedGroups: index === 0 ? 0 : 3,
  removedTotal: index * 3,
});

const run = (resultRound: number, rounds: RoundMetrics[], extra: Partial<PruneWorkflowResult> = {}): PruneWorkflowResult => ({
  modelArtifactId: (rounds[resultRound] ?? rounds[0] as RoundMetrics).modelArtifactId,
  resultRound,
  stoppedBecause: 'rounds-done',
  baseline: rounds[0] as RoundMetrics,
  history: rounds.slice(1),
  removedTotal: resultRound * 3,
  ...extra,
});

describe('keepDecision', () => {
  const rounds = [round(0, 0.9, 1000), round(1, 0.895, 700), round(2, 0.87, 500)];

  it('keeps a result whose top-1 lost no more than the budget', () => {
    const decision = keepDecision(run(1, rounds), 0.01);
    assert.equal(decision.kept, true);
    assert.equal(decision.result, rounds[1]);
    assert.match(decision.reason, /top-1 89\.50% against 90\.00% before, FLOPs 70\.00% of the input model: within the budget of 1\.00 points/);
    assert.equal(keepDecision(run(2, rounds), 0.03).kept, true, 'exactly at the budget (up to rounding) is within it');
  });

  it('refuses a result over the budget, naming the loss', () => {
    const decision = keepDecision(run(2, rounds), 0.01);
    assert.equal(decision.kept, false);
    assert.match(decision.reason, /3\.00 points lost, over the budget of 1\.00/);
  });

  it('refuses a run that removed nothing (its result is the input model)', () => {
    const decision = keepDecision(run(0, rounds.slice(0, 2), { stoppedBecause: 'accuracy-budget', reason: 'round 1 fell too far' }), 0.5);
    assert.equal(decision.kept, false);
    assert.equal(decision.result, rounds[0]);
    assert.match(decision.reason, /no round removed anything .*accuracy-budget: round 1 fell too far/);
  });

  it('finds the result round in the history, and says when it is missing', () => {
    assert.equal(resultMetrics(run(2, rounds)), rounds[2]);
    assert.throws(() => resultMetrics(run(3, rounds)), /no round 3/);
  });
});

describe('keptDirName', () => {
  it('turns a firing workflow id into one path segment', () => {
    assert.equal(keptDirName('scheduled-nightly-2025-01-02T02:00:00Z'), 'scheduled-nightly-2025-01-02T02-00-00Z');
    assert.equal(keptDirName('../../etc/x'), 'etc-x');
    assert.equal(keptDirName('..'), 'run');
  });
});
