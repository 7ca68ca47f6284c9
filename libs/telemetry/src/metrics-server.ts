import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectProcessMetrics, metricsRegistry } from './metrics';

export interface MetricsServerOptions {
  port: number;
  /** Default 0.0.0.0 (Prometheus scrapes from another pod). */
  host?: string;
  /** `GET /healthz` answers 200 while this says true, else 503. Default always true. */
  healthy?: () => boolean;
}

export interface MetricsServer {
  readonly port: number;
  /** http://HOST:PORT/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the process's metrics in the Prometheus text format at `GET /metrics`, and a liveness
 * answer at `GET /healthz`. Starts Node's process metrics too.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error(`metrics port ${options.port} is not a port (0-65535)`);
  collectProcessMetrics();
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      metricsRegistry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`),
      );
    } else if (path === '/healthz') {
      const healthy = options.healthy?.() ?? true;
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok\n' : 'unhealthy\n');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`metrics: cannot listen on ${host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port,
    url: `http://${shown}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
