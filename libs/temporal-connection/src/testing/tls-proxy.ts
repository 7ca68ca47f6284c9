import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** A request that passed through the proxy: what a TLS-terminating frontend would see. */
export interface ProxiedRequest {
  path: string;
  authorization?: string;
  namespace?: string;
  /** CN of the client certificate (mutual TLS). */
  clientCommonName?: string;
}

export interface TlsProxyOptions {
  /** host:port of the plaintext gRPC server behind the proxy (a Temporal dev server). */
  upstream: string;
  certFile: string;
  keyFile: string;
  /** Require client certificates signed by this CA (mutual TLS). */
  clientCaFile?: string;
}

export interface TlsProxy {
  /** 127.0.0.1:port, serving TLS. */
  address: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

const withoutPseudo = (headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * A TLS frontend for a plaintext gRPC server, as a load balancer in front of Temporal would be:
 * it terminates TLS (optionally mutual TLS), records each request's path and credentials, and
 * forwards the HTTP/2 streams unchanged, trailers included. The dev server cannot serve TLS
 * itself, so this is how the clients' TLS and API-key settings are exercised for real.
 */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const upstream = http2.connect(`http://${options.upstream}`);
  upstream.on('error', () => undefined);
  const requests: ProxiedRequest[] = [];
  const server = http2.createSecureServer({
    cert: readFileSync(options.certFile),
    key: readFileSync(options.keyFile),
    ...(options.clientCaFile === undefined ? {} : { ca: readFileSync(options.clientCaFile), requestCert: true, rejectUnauthorized: true }),
  });
  server.on('stream', (stream, headers) => {
    const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate?.();
    const commonName = single(peer?.subject?.CN);
    requests.push({
      path: String(headers[':path']),
      ...(headers['authorization'] === undefined ? {} : { authorization: single(headers['authorization']) as string }),
      ...(headers['temporal-namespace'] === undefined ? {} : { namespace: single(headers['temporal-namespace']) as string }),
      ...(commonName === undefined ? {} : { clientCommonName: commonName }),
    });
    const forward = upstream.request({ ':method': headers[':method'], ':path': headers[':path'], ...withoutPseudo(headers) });
    let trailers: http2.OutgoingHttpHeaders = {};
    stream.on('error', () => forward.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('close', () => {
      if (!forward.closed) forward.close(http2.constants.NGHTTP2_CANCEL);
    });
    forward.on('error', () => undefined);
    forward.on('trailers', (received) => {
      trailers = withoutPseudo(received);
    });
    forward.on('response', (received, flags) => {
      const responseHeaders = { ':status': received[':status'], ...withoutPseudo(received) };
      if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
        stream.respond(responseHeaders, { endStream: true });
        return;
      }
      stream.respond(responseHeaders, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(trailers));
      forward.pipe(stream);
    });
    forward.on('close', () => {
      if (!stream.closed && !stream.headersSent) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    stream.pipe(forward);
  });
  server.on('sessionError', () => undefined);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  return {
    address: `127.0.0.1:${port}`,
    requests,
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.destroy();
    },
  };
}
