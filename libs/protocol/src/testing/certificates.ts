import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificates } from '../certificates';

export interface TestCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a different CA (must be refused under mutual TLS). */
  rogueClientCert: string;
  rogueClientKey: string;
  /** A client certificate of the right CA whose validity ended yesterday (must be refused). */
  expiredClientCert: string;
  expiredClientKey: string;
}

/**
 * A CA, a server certificate for 127.0.0.1/localhost, a client certificate, a client certificate
 * of another CA (whose certificate is also `rogue-ca.crt`) and an expired one of the right CA,
 * made as `ippro certs create` makes them.
 */
export function makeTestCertificates(dir: string): TestCertificates {
  const main = createCertificates({ out: dir, days: 2, certificates: [{ name: 'server', hosts: ['127.0.0.1', 'localhost'] }, { name: 'client', commonName: 'ippro worker' }] });
  const rogue = createCertificates({ out: join(dir, 'rogue'), days: 2, certificates: [{ name: 'rogue-client', commonName: 'intruder' }] });
  copyFileSync(rogue.caCert, join(dir, 'rogue-ca.crt'));
  const expired = createCertificates({ out: join(dir, 'expired'), caDir: dir, days: 1, notBefore: new Date(Date.now() - 2 * 86_400_000), certificates: [{ name: 'expired-client' }] });
  const files = (issued: Record<string, { cert: string; key: string }>, name: string): { cert: string; key: string } => {
    const found = issued[name];
    if (found === undefined) throw new Error(`no certificate ${name} was made`);
    return found;
  };
  const [server, client, rogueClient, expiredClient] = [files(main.issued, 'server'), files(main.issued, 'client'), files(rogue.issued, 'rogue-client'), files(expired.issued, 'expired-client')];
  return {
    caCert: main.caCert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    rogueClientCert: rogueClient.cert,
    rogueClientKey: rogueClient.key,
    expiredClientCert: expiredClient.cert,
    expiredClientKey: expiredClient.key,
  };
}
