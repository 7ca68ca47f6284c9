import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ServeMode = 'complete' | 'truncated';

export interface LoopbackServer {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/**
 * Serves one file on 127.0.0.1. 'truncated' declares the full Content-Length, sends about half
 * and then drops the connection, as a failing network would.
 */
export async function serveFile(
  path: string,
  mode: ServeMode = 'complete',
): Promise<LoopbackServer> {
  let requests = 0;
  const size = statSync(path).size;
  const server: Server = createServer((request, response) => {
    requests++;
    response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': size });
    if (mode === 'complete') {
      createReadStream(path).pipe(response);
      return;
    }
    createReadStream(path, { end: Math.floor(size / 2) - 1 })
      .on('data', (chunk) => response.write(chunk))
      .on('end', () => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
