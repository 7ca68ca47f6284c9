import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

/** TLS for a server: its certificate chain and key, PEM files. */
export interface ServerTlsOptions {
  certFile: string;
  keyFile: string;
  /**
   * CA bundle for client certificates. When set, mutual TLS: every client must present a
   * certificate signed by this CA, or the handshake is refused.
   */
  clientCaFile?: string;
}

/** TLS for a client. */
export interface ClientTlsOptions {
  /** CA bundle that signed the server's certificate; default the system roots. */
  caFile?: string;
  /** The client's certificate and key, for mutual TLS (both or neither). */
  certFile?: string;
  keyFile?: string;
  /** Host name to check the server certificate against, when it differs from the address. */
  serverName?: string;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read TLS ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Insecure credentials without options, TLS (or mutual TLS with clientCaFile) with them. */
export function serverCredentials(tls?: ServerTlsOptions): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const keyCertPairs = [{ cert_chain: readPem(tls.certFile, 'certificate'), private_key: readPem(tls.keyFile, 'key') }];
  if (tls.clientCaFile === undefined) return grpc.ServerCredentials.createSsl(null, keyCertPairs, false);
  return grpc.ServerCredentials.createSsl(readPem(tls.clientCaFile, 'client CA'), keyCertPairs, true);
}

export function channelCredentials(tls?: ClientTlsOptions): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new Error('client TLS: certFile and keyFile go together (mutual TLS needs both)');
  }
  return grpc.credentials.createSsl(
    tls.caFile === undefined ? null : readPem(tls.caFile, 'CA'),
    tls.keyFile === undefined ? null : readPem(tls.keyFile, 'key'),
    tls.certFile === undefined ? null : readPem(tls.certFile, 'certificate'),
  );
}

/** Channel options that go with the credentials (the TLS host name override). */
export function tlsChannelOptions(tls?: ClientTlsOptions): grpc.ChannelOptions {
  return tls?.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName };
}
