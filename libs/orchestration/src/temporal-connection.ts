import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/client';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TASK_QUEUE = 'ippro';

/** TLS to the Temporal frontend: server CA, mutual TLS, SNI override. Files are read at connect time. */
export interface TemporalTlsOptions {
  /** PEM of the CA that signed the server's certificate; default the system roots. */
  serverCaFile?: string;
  /** Mutual TLS: the client's certificate and key (PEM). */
  clientCertFile?: string;
  clientKeyFile?: string;
  serverNameOverride?: string;
}

/** Where the Temporal service is and how to authenticate to it. */
export interface TemporalTarget {
  /** host:port of the frontend. Default 127.0.0.1:7233. */
  address?: string;
  /** Default 'default'. */
  namespace?: string;
  /** true = TLS with the system roots; an object for a CA, mutual TLS or SNI. Default off (on when apiKey is set). */
  tls?: boolean | TemporalTlsOptions;
  /** Temporal Cloud API key (sent as a bearer token; implies TLS). */
  apiKey?: string;
}

/** The TLS option in the SDK's shape (the same for Connection and NativeConnection). */
export function temporalTlsConfig(target: TemporalTarget): boolean | TLSConfig | undefined {
  const { tls } = target;
  if (tls === undefined || tls === false) return target.apiKey === undefined ? undefined : true;
  if (tls === true) return true;
  if ((tls.clientCertFile === undefined) !== (tls.clientKeyFile === undefined)) {
    throw new Error('tls.clientCertFile and tls.clientKeyFile go together (mutual TLS needs both)');
  }
  return {
    ...(tls.serverNameOverride === undefined ? {} : { serverNameOverride: tls.serverNameOverride }),
    ...(tls.serverCaFile === undefined ? {} : { serverRootCACertificate: readFileSync(tls.serverCaFile) }),
    ...(tls.clientCertFile === undefined || tls.clientKeyFile === undefined
      ? {}
      : { clientCertPair: { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) } }),
  };
}

/** A Temporal client for starting, querying and signalling pruneModel runs. Close its connection when done. */
export async function connectTemporalClient(target: TemporalTarget = {}): Promise<Client> {
  const tls = temporalTlsConfig(target);
  const connection = await Connection.connect({
    address: target.address ?? DEFAULT_TEMPORAL_ADDRESS,
    ...(tls === undefined ? {} : { tls }),
    ...(target.apiKey === undefined ? {} : { apiKey: target.apiKey }),
  });
  return new Client({ connection, namespace: target.namespace ?? DEFAULT_NAMESPACE });
}
