import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { DEFAULT_TEMPORAL_ADDRESS, TemporalTargetError } from './temporal-target';
import type { TemporalTarget } from './temporal-target';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TemporalTargetError(`cannot read the Temporal TLS ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The TLS option in the SDK's shape (the same for Connection and NativeConnection); undefined = plaintext. */
export function temporalTlsConfig(target: TemporalTarget): boolean | TLSConfig | undefined {
  const { tls } = target;
  if (tls === undefined || tls === false) return target.apiKey === undefined ? undefined : true;
  if (tls === true) return true;
  if ((tls.clientCertFile === undefined) !== (tls.clientKeyFile === undefined)) {
    throw new TemporalTargetError('Temporal TLS: the client certificate and key go together (mutual TLS needs both)');
  }
  return {
    ...(tls.serverNameOverride === undefined ? {} : { serverNameOverride: tls.serverNameOverride }),
    ...(tls.serverCaFile === undefined ? {} : { serverRootCACertificate: readPem(tls.serverCaFile, 'CA') }),
    ...(tls.clientCertFile === undefined || tls.clientKeyFile === undefined
      ? {}
      : { clientCertPair: { crt: readPem(tls.clientCertFile, 'certificate'), key: readPem(tls.clientKeyFile, 'key') } }),
  };
}

/** The options both SDK connections take: address, TLS, API key. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: boolean | TLSConfig;
  apiKey?: string;
}

/** A target as connection options (TLS files are read here). Use with Connection.connect or NativeConnection.connect. */
export function temporalConnectionOptions(target: TemporalTarget): TemporalConnectionOptions {
  const tls = temporalTlsConfig(target);
  return {
    address: target.address ?? DEFAULT_TEMPORAL_ADDRESS,
    ...(tls === undefined ? {} : { tls }),
    ...(target.apiKey === undefined ? {} : { apiKey: target.apiKey }),
  };
}
