import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the Temporal SDK's own log lines (worker state, retries, the core's lines) into the
 * JSON log. Once per process, before the first connection; false when a runtime was installed
 * already (its logger is kept).
 */
export function installTemporalLogger(logger: Logger, level: LogLevel = 'INFO'): boolean {
  const temporal = logger.child({ component: 'temporal' });
  try {
    Runtime.install({ logger: new DefaultLogger(level, (entry) => temporal[PINO_LEVEL[entry.level]](entry.meta ?? {}, entry.message)) });
    return true;
  } catch {
    return false;
  }
}
