import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

/** The files of a certificate authority (`ca.crt`, `ca.key`) and of each name (`NAME.crt`, `NAME.key`). */
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';

export interface CertificateRequest {
  /** The certificate's name: its files are NAME.crt and NAME.key, its common name NAME. */
  name: string;
  /** Host names and IP addresses the certificate is valid for (besides `name`). */
  hosts?: readonly string[];
  /** The subject's common name, when not `name` (peers that log who called see it). */
  commonName?: string;
}

export interface CreateCertificatesOptions {
  /** Directory of the files; created when missing. An existing ca.crt/ca.key there signs the new certificates. */
  out: string;
  certificates: readonly CertificateRequest[];
  /** Validity of new certificates (and of a new CA) in days; default 365. */
  days?: number;
  /** Start of validity; default now. A test makes an expired certificate with a past start. */
  notBefore?: Date;
  /** Another CA directory (ca.crt, ca.key) to sign with instead of the one in `out`. */
  caDir?: string;
}

export interface CreatedCertificates {
  caCert: string;
  /** NAME -> { cert, key } paths. */
  issued: Record<string, { cert: string; key: string }>;
  /** True when a new CA was made (none was in `out` or `caDir`). */
  newAuthority: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function rsaKeyPair(): forge.pki.rsa.KeyPair {
  // The native generator: forge's own (pure JavaScript) takes seconds for 2048 bits.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function validity(certificate: forge.pki.Certificate, notBefore: Date, days: number): void {
  certificate.validity.notBefore = notBefore;
  certificate.validity.notAfter = new Date(notBefore.getTime() + days * 86_400_000);
}

function serialNumber(): string {
  // Positive (the high bit clear) and unique per certificate.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function altName(host: string): { type: number; value?: string; ip?: string } {
  return isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host };
}

function makeAuthority(notBefore: Date, days: number): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, notBefore, days);
  const subject = [{ name: 'commonName', value: 'ippro cluster CA' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

function readAuthority(dir: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | undefined {
  const [certFile, keyFile] = [join(dir, CA_CERT_FILE), join(dir, CA_KEY_FILE)];
  if (!existsSync(certFile) && !existsSync(keyFile)) return undefined;
  if (!existsSync(certFile) || !existsSync(keyFile)) throw new Error(`${dir} holds one of ${CA_CERT_FILE} and ${CA_KEY_FILE} but not the other`);
  try {
    return { cert: forge.pki.certificateFromPem(readFileSync(certFile, 'utf8')), key: forge.pki.privateKeyFromPem(readFileSync(keyFile, 'utf8')) as forge.pki.rsa.PrivateKey };
  } catch (error) {
    throw new Error(`${dir}: ${CA_CERT_FILE} and ${CA_KEY_FILE} are not a PEM certificate and RSA key (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Makes a certificate authority (unless `out` or `caDir` already has one) and a certificate per
 * request, signed by it, for both server and client use: every ippro service is a server to some
 * peers and a client of others, and mutual TLS checks both directions against the one CA.
 * Keys are RSA 2048 from node's crypto; certificates are built with node-forge. Key files are
 * written readable by their owner only.
 */
export function createCertificates(options: CreateCertificatesOptions): CreatedCertificates {
  const days = options.days ?? 365;
  if (!(Number.isInteger(days) && days > 0)) throw new Error(`certificate validity must be a positive number of days, got ${days}`);
  if (options.certificates.length === 0) throw new Error('name at least one certificate to make');
  for (const { name } of options.certificates) {
    if (!NAME.test(name)) throw new Error(`certificate name '${name}' must be letters, digits, '.', '_' or '-' (it names the files NAME.crt and NAME.key)`);
    if (name === 'ca') throw new Error("certificate name 'ca' is the authority's own");
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  mkdirSync(options.out, { recursive: true });
  const existing = readAuthority(options.caDir ?? options.out);
  const authority = existing ?? makeAuthority(notBefore, Math.max(days, 3650));
  const caCert = join(options.out, CA_CERT_FILE);
  if (existing === undefined) {
    writeFileSync(join(options.out, CA_KEY_FILE), forge.pki.privateKeyToPem(authority.key), { mode: 0o600 });
    writeFileSync(caCert, forge.pki.certificateToPem(authority.cert));
  } else if (options.caDir !== undefined) {
    writeFileSync(caCert, forge.pki.certificateToPem(authority.cert));
  }
  const issued: CreatedCertificates['issued'] = {};
  for (const request of options.certificates) {
    const keys = rsaKeyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = serialNumber();
    validity(cert, notBefore, days);
    cert.setSubject([{ name: 'commonName', value: request.commonName ?? request.name }]);
    cert.setIssuer(authority.cert.subject.attributes);
    const hosts = [...new Set([request.name, ...(request.hosts ?? [])])];
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: hosts.map(altName) },
    ]);
    cert.sign(authority.key, forge.md.sha256.create());
    const files = { cert: join(options.out, `${request.name}.crt`), key: join(options.out, `${request.name}.key`) };
    writeFileSync(files.key, forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 });
    writeFileSync(files.cert, forge.pki.certificateToPem(cert));
    issued[request.name] = files;
  }
  return { caCert, issued, newAuthority: existing === undefined };
}
