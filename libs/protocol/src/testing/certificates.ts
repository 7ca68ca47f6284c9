import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a different CA (must be refused under mutual TLS). */
  rogueClientCert: string;
  rogueClientKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, ca: string, subject: string, extensions: string): void {
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

function authority(dir: string, name: string, subject: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A CA, a server certificate for 127.0.0.1/localhost, and client certificates, made with the openssl CLI. */
export function makeTestCertificates(dir: string): TestCertificates {
  authority(dir, 'ca', '/CN=ippro test CA');
  authority(dir, 'rogue-ca', '/CN=rogue CA');
  issue(dir, 'server', 'ca', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  issue(dir, 'client', 'ca', '/CN=ippro worker', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  issue(dir, 'rogue-client', 'rogue-ca', '/CN=intruder', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  const path = (file: string): string => join(dir, file);
  return {
    caCert: path('ca.crt'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    rogueClientCert: path('rogue-client.crt'),
    rogueClientKey: path('rogue-client.key'),
  };
}
