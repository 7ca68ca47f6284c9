import { hostname } from 'node:os';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { jobFields } from './job-fields';

export type { Logger } from 'pino';

/** Structured fields of a log line; a `jobId` is expanded into runId, round and shard. */
export type LogFields = Record<string, unknown> & { jobId?: string };

/** A log callback of the form the libraries take (`log?: (line, fields?) => void`). */
export type LineLog = (line: string, fields?: LogFields) => void;

export interface LoggerOptions {
  /** The process: `ippro-worker`, `ippro-orchestrator`. */
  name: string;
  /** pino level; default $IPPRO_LOG_LEVEL, else info. */
  level?: string;
  /** File descriptor or stream to write to; default 2 (stderr), stdout being kept for the processes' own lines. */
  destination?: number | NodeJS.WritableStream;
  /** Fields on every line, e.g. `{ workerId }`. */
  base?: Record<string, unknown>;
}

/**
 * A JSON-lines logger: one object per line with `level` (a name), `time` (ISO 8601), `name`,
 * `pid`, `hostname`, `msg`, and the call's fields (`runId`, `round`, `shard`, `jobId`,
 * `activity`, ...). Written synchronously, so that nothing is lost when the process exits.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? 2;
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env['IPPRO_LOG_LEVEL'] ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      base: { pid: process.pid, hostname: hostname(), ...options.base },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination,
  );
}

/** Adds runId, round and shard next to a jobId. */
export function expandFields(fields: LogFields | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  const { jobId, ...rest } = fields;
  return jobId === undefined || jobId === '' ? rest : { ...rest, ...jobFields(jobId) };
}

/**
 * A `(line, fields?) => void` callback writing to `logger` at `level`; lines that start with
 * "failed" or name a failure go out as warnings.
 */
export function lineLogger(logger: Logger, level: 'info' | 'debug' = 'info'): LineLog {
  return (line, fields) => {
    const structured = expandFields(fields);
    if (/\bfailed\b|\berror\b/i.test(line)) logger.warn(structured, line);
    else logger[level](structured, line);
  };
}
