import { isIPv4 } from 'node:net';
import { toggle } from '@ippro/settings';
import type { ClientTlsOptions, ServerTlsOptions } from './tls';

/**
 * `--insecure`: plaintext beyond loopback. Without it a service that listens on (or a client that
 * dials) anything but a loopback address needs mutual TLS.
 */
export const INSECURE_SETTINGS = {
  insecure: toggle({ help: 'allow plaintext gRPC (no mutual TLS) beyond loopback; anyone who reaches the port can call every method (a warning is logged)' }),
};

/** A listening or dialling address that needs mutual TLS and has none, without --insecure. */
export class InsecureTransportError extends Error {
  override readonly name = 'InsecureTransportError';
}

/** The host of `host:port`, `[v6]:port` or `dns:NAME:PORT`, without brackets. */
export function hostOf(address: string): string {
  const target = address.startsWith('dns:') ? address.slice(4).replace(/^\/\/[^/]*\//, '') : address;
  const colon = target.lastIndexOf(':');
  const host = colon < 0 ? target : target.slice(0, colon);
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** True for 127.0.0.0/8, ::1 and localhost: addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  if (bare.startsWith('::ffff:')) return isLoopbackHost(bare.slice(7));
  return isIPv4(bare) && bare.startsWith('127.');
}

interface TransportCheck {
  /** What listens or is dialled, for messages: `the worker service`. */
  what: string;
  /** The flags that give the certificates, for the message: `--tls-cert, --tls-key and --tls-ca`. */
  flags: string;
  insecure: boolean;
  warn: (line: string) => void;
}

const HOW = 'ippro certs create makes a CA and certificates (docs/deploy.md)';

/**
 * A server on `address` beyond loopback needs mutual TLS (a certificate, its key, and the CA its
 * clients' certificates must be signed by), unless `insecure`, which is logged as a warning.
 */
export function checkServerTransport(address: string, tls: ServerTlsOptions | undefined, check: TransportCheck): void {
  if (isLoopbackHost(hostOf(address)) || tls?.clientCaFile !== undefined) return;
  const missing = tls === undefined ? 'without TLS' : 'with TLS but without a client CA (any client could call it)';
  if (check.insecure) {
    check.warn(`WARNING: ${check.what} listens on ${address} ${missing} (--insecure): anyone who reaches the port can call every method`);
    return;
  }
  throw new InsecureTransportError(`${check.what} would listen on ${address}, beyond loopback, ${missing}: give ${check.flags} (${HOW}), or --insecure to serve it anyway`);
}

/**
 * A client dialling `target` beyond loopback needs mutual TLS (its own certificate and key, and
 * the CA that signed the server's), unless `insecure`, which is logged as a warning.
 */
export function checkClientTransport(target: string, tls: ClientTlsOptions | undefined, check: TransportCheck): void {
  if (isLoopbackHost(hostOf(target)) || (tls?.certFile !== undefined && tls.caFile !== undefined)) return;
  if (check.insecure) {
    check.warn(`WARNING: calls to ${check.what} at ${target} go without mutual TLS (--insecure)`);
    return;
  }
  throw new InsecureTransportError(`${check.what} at ${target} is beyond loopback and would be reached without mutual TLS: give ${check.flags} (${HOW}), or --insecure`);
}
