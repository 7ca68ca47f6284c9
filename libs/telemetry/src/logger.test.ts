import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { jobFields } from './job-fields';
import { createLogger, lineLogger } from './logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('logs', () => {
  it('splits workflow job ids into run, round and shard', () => {
    assert.deepEqual(jobFields('prune-20260101-ab12/r2/s3'), { jobId: 'prune-20260101-ab12/r2/s3', runId: 'prune-20260101-ab12', round: 2, shard: 's3' });
    assert.deepEqual(jobFields('run/r1/m0/replica1'), { jobId: 'run/r1/m0/replica1', runId: 'run', round: 1, shard: 'm0/replica1' });
    assert.deepEqual(jobFields('run/r0/eval1'), { jobId: 'run/r0/eval1', runId: 'run', round: 0, shard: 'eval1' });
    assert.deepEqual(jobFields('bench-call-7'), { jobId: 'bench-call-7' });
  });

  it('writes one JSON object per line with level, time, name and the call ids', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'ippro-worker', destination: stream, level: 'info', base: { workerId: 'w-1' } });
    const log = lineLogger(logger);
    log('ComputeGradStats run-9/r3/s1: done in 120 ms', { method: 'ComputeGradStats', jobId: 'run-9/r3/s1' });
    log('FineTune run-9/r3/m0/replica0: failed after 5 ms: DATA_LOSS: artifact x is corrupted');
    log('worker stopped');
    const [done, failed, plain] = lines();
    assert.equal(done?.['level'], 'info');
    assert.equal(done?.['name'], 'ippro-worker');
    assert.equal(done?.['workerId'], 'w-1');
    assert.match(String(done?.['time']), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual([done?.['runId'], done?.['round'], done?.['shard'], done?.['method']], ['run-9', 3, 's1', 'ComputeGradStats']);
    assert.equal(done?.['msg'], 'ComputeGradStats run-9/r3/s1: done in 120 ms');
    assert.equal(failed?.['level'], 'warn');
    assert.equal(plain?.['msg'], 'worker stopped');
    assert.equal(plain?.['runId'], undefined);
  });
});
