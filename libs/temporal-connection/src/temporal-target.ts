import { SettingsError } from '@ippro/settings';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TASK_QUEUE = 'ippro';

/** TLS to the Temporal frontend: server CA, mutual TLS, SNI override. PEM files, read at connect time. */
export interface TemporalTlsOptions {
  /** PEM of the CA that signed the server's certificate; default the system roots. */
  serverCaFile?: string;
  /** Mutual TLS: the client's certificate and key (PEM), both or neither. */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** The name the server's certificate must carry, when it differs from the address's host. */
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

/** A Temporal setting (flag or environment variable) that cannot be used; the message names it. */
export class TemporalTargetError extends SettingsError {
  override readonly name: string = 'TemporalTargetError';
}
