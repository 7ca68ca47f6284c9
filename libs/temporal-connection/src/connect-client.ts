import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions } from './connection-options';
import { DEFAULT_NAMESPACE } from './temporal-target';
import type { TemporalTarget } from './temporal-target';

export interface ConnectClientOptions {
  /** How long connecting (and the server's first answer) may take. Default the SDK's 10 s. */
  connectTimeoutMs?: number;
}

/** A Temporal client on the target's namespace; the server has answered once. Close its connection when done. */
export async function connectTemporalClient(target: TemporalTarget = {}, options: ConnectClientOptions = {}): Promise<Client> {
  const connection = await Connection.connect({
    ...temporalConnectionOptions(target),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeout: options.connectTimeoutMs }),
  });
  return new Client({ connection, namespace: target.namespace ?? DEFAULT_NAMESPACE });
}
