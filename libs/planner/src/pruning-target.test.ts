import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, parseTarget, validateTarget } from './pruning-target';

test('parseTarget reads metric:fraction and metric:percent', () => {
  assert.deepEqual(parseTarget('flops:0.5'), { metric: 'flops', fraction: 0.5 });
  assert.deepEqual(parseTarget(' Params : 0.25 '), { metric: 'params', fraction: 0.25 });
  assert.deepEqual(parseTarget('channels:40%'), { metric: 'channels', fraction: 0.4 });
});

test('parseTarget names what is wrong', () => {
  assert.throws(() => parseTarget('flops'), /target must look like "<metric>:<fraction>".*got "flops"/);
  assert.throws(() => parseTarget('latency:0.5'), /target metric must be one of params, flops, channels, got "latency"/);
  assert.throws(() => parseTarget('flops:1.5'), /strictly between 0 and 1, got 1.5/);
  assert.throws(() => parseTarget('flops:abc'), /got NaN/);
});

test('validateTarget rejects fractions outside (0, 1), naming the value', () => {
  for (const fraction of [0, 1, -0.1, 2, Number.NaN]) {
    assert.throws(() => validateTarget({ metric: 'params', fraction }), new RegExp(`got ${String(fraction)}$`));
  }
});

test('flops are counted as MACs', () => {
  const cost = { params: 1, macs: 2, channels: 3 };
  assert.equal(metricValue(cost, 'params'), 1);
  assert.equal(metricValue(cost, 'flops'), 2);
  assert.equal(metricValue(cost, 'channels'), 3);
});
