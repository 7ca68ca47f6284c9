import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitUntilServingOptions {
  host: string;
  port: number;
  namespace: string;
  timeoutMs: number;
  /** Aborted when waiting is pointless, e.g. the server process died. */
  signal: AbortSignal;
}

export type ServingOutcome = { serving: true } | { serving: false; lastError: string };

const GRPC_ATTEMPT_TIMEOUT_MS = 2_000;
const RETRY_PAUSE_MS = 50;

/**
 * Polls until the frontend answers DescribeNamespace for our namespace. That is the first
 * call every worker and client makes, so success means the server is usable, not just listening.
 */
export async function waitUntilServing(options: WaitUntilServingOptions): Promise<ServingOutcome> {
  // Loaded lazily so CLI discovery (and the CI setup script) never pays for gRPC and protobuf.
  const { Connection } = await import('@temporalio/client');
  const address = `${options.host}:${options.port}`;
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'no attempt made';
  while (!options.signal.aborted && Date.now() < deadline) {
    // gRPC waits out its whole deadline on a refused port, so check cheaply that something listens first.
    if (await acceptsTcp(options.host, options.port)) {
      const remainingMs = Math.max(1, Math.min(GRPC_ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
      const failure = await tryDescribeNamespace(Connection, address, options.namespace, remainingMs);
      if (failure === undefined) return { serving: true };
      lastError = failure;
    } else {
      lastError = `nothing listening on ${address}`;
    }
    await delay(RETRY_PAUSE_MS);
  }
  return { serving: false, lastError };
}

function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

type ConnectionClass = typeof import('@temporalio/client').Connection;
type ClientConnection = import('@temporalio/client').Connection;

/** One fresh connection per attempt: a reused gRPC channel would back off for seconds after early failures. */
async function tryDescribeNamespace(
  Connection: ConnectionClass,
  address: string,
  namespace: string,
  timeoutMs: number,
): Promise<string | undefined> {
  let connection: ClientConnection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const open = connection;
    await open.withDeadline(Date.now() + timeoutMs, () => open.workflowService.describeNamespace({ namespace }));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
