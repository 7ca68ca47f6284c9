import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCron, parseEvery, parseTiming } from './commands/schedule-timing';
import { UsageError } from './exit-codes';

const refuses = (run: () => unknown, pattern: RegExp): void => {
  assert.throws(run, (error: unknown) => error instanceof UsageError && pattern.test(error.message));
};

describe('schedule timing flags', () => {
  it('reads --every durations', () => {
    assert.equal(parseEvery('24h'), 24 * 3_600_000);
    assert.equal(parseEvery('1h30m'), 5_400_000);
    assert.equal(parseEvery(' 7d '), 7 * 86_400_000);
    assert.equal(parseEvery('90s'), 90_000);
    refuses(() => parseEvery('soon'), /--every must be a duration such as 24h/);
    refuses(() => parseEvery('24 h'), /--every must be a duration/);
    refuses(() => parseEvery('1h-5m'), /--every must be a duration/);
    refuses(() => parseEvery('500ms'), /--every must be at least 1s/);
  });

  it('checks the shape of --cron and leaves the field ranges to Temporal', () => {
    assert.equal(checkCron('0  2 * * *'), '0 2 * * *');
    assert.equal(checkCron('@daily'), '@daily');
    assert.equal(checkCron('*/15 9-17 * * MON-FRI'), '*/15 9-17 * * MON-FRI');
    refuses(() => checkCron('every night'), /--cron must be a cron expression such as "0 2 \* \* \*"/);
    refuses(() => checkCron('0 2 * *'), /--cron must be a cron expression/);
    refuses(() => checkCron('0 2 * * * ; rm'), /--cron must be a cron expression/);
  });

  it('takes exactly one of --cron and --every; --timezone only with --cron', () => {
    assert.deepEqual(parseTiming({ every: '24h' }), { kind: 'every', every: '24h', milliseconds: 86_400_000 });
    assert.deepEqual(parseTiming({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }), { kind: 'cron', expression: '0 2 * * *', timezone: 'Europe/Berlin' });
    refuses(() => parseTiming({}), /exactly one of --cron EXPRESSION and --every DURATION/);
    refuses(() => parseTiming({ cron: '0 2 * * *', every: '1h' }), /exactly one of/);
    refuses(() => parseTiming({ every: '1h', timezone: 'UTC' }), /--timezone goes with --cron/);
  });
});
