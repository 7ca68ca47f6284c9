import { SettingsError, TEXT, flagOf, setting, together } from '@ippro/settings';
import type { Resolved, Setting, SettingSet } from '@ippro/settings';
import type { ClientTlsOptions, ServerTlsOptions } from './tls';

type Text = Setting<string | undefined>;
type ClientTlsNames<P extends string> = `${P}Ca` | `${P}Cert` | `${P}Key` | `${P}ServerName`;
type ServerTlsPrefix<P extends string> = P extends '' ? 'tls' : `${P}Tls`;
type ServerTlsNames<P extends string> = `${ServerTlsPrefix<P>}Cert` | `${ServerTlsPrefix<P>}Key` | `${ServerTlsPrefix<P>}Ca`;

export type ClientTlsSettings<P extends string> = { [K in ClientTlsNames<P>]: Text };
export type ServerTlsSettings<P extends string> = { [K in ServerTlsNames<P>]: Text };

const file = (help: string): Text => setting({ parse: TEXT, placeholder: 'FILE', help });

/** TLS from this process to `peer` (`--P-ca`, `--P-cert`, `--P-key`, `--P-server-name`). */
export function clientTlsSettings<P extends string>(prefix: P, peer: string): ClientTlsSettings<P> {
  const flag = flagOf(prefix);
  return {
    [`${prefix}Ca`]: file(`TLS to ${peer}: CA (PEM) that signed the server certificate`),
    [`${prefix}Cert`]: file(`mutual TLS to ${peer}: this process's certificate (PEM), with --${flag}-key`),
    [`${prefix}Key`]: file(`key of --${flag}-cert (PEM)`),
    [`${prefix}ServerName`]: setting({ parse: TEXT, placeholder: 'NAME', help: `TLS to ${peer}: the name the server certificate carries` }),
  } as ClientTlsSettings<P>;
}

function serverPrefix<P extends string>(prefix: P): ServerTlsPrefix<P> {
  return (prefix === '' ? 'tls' : `${prefix}Tls`) as ServerTlsPrefix<P>;
}

/** Serving `what` over TLS (`--tls-cert` ..., or with a prefix `--P-tls-cert` ...). */
export function serverTlsSettings<P extends string>(prefix: P, what: string): ServerTlsSettings<P> {
  const name = serverPrefix(prefix);
  const flag = flagOf(name);
  return {
    [`${name}Cert`]: file(`serve ${what} over TLS with this certificate chain (PEM), with --${flag}-key`),
    [`${name}Key`]: file(`key of --${flag}-cert (PEM)`),
    [`${name}Ca`]: file(`mutual TLS: clients of ${what} must present certificates signed by this CA (PEM)`),
  } as ServerTlsSettings<P>;
}

/** The client TLS options of resolved settings; undefined when none is given. A certificate goes with its key. */
export function clientTlsOf<P extends string>(resolved: Resolved<ClientTlsSettings<P>>, prefix: P): ClientTlsOptions | undefined {
  const names = { ca: `${prefix}Ca`, cert: `${prefix}Cert`, key: `${prefix}Key`, serverName: `${prefix}ServerName` } as const;
  const values = resolved.values as Record<string, string | undefined>;
  together(resolved as Resolved<SettingSet>, names.cert, names.key);
  const tls: ClientTlsOptions = {};
  const [caFile, certFile, keyFile, serverName] = [values[names.ca], values[names.cert], values[names.key], values[names.serverName]];
  if (caFile !== undefined) tls.caFile = caFile;
  if (certFile !== undefined) tls.certFile = certFile;
  if (keyFile !== undefined) tls.keyFile = keyFile;
  if (serverName !== undefined) tls.serverName = serverName;
  return Object.keys(tls).length === 0 ? undefined : tls;
}

/** The server TLS options of resolved settings; undefined when none is given. Mutual TLS needs the certificate and key. */
export function serverTlsOf<P extends string>(resolved: Resolved<ServerTlsSettings<P>>, prefix: P): ServerTlsOptions | undefined {
  const name = serverPrefix(prefix);
  const [cert, key, ca] = [`${name}Cert`, `${name}Key`, `${name}Ca`];
  const values = resolved.values as Record<string, string | undefined>;
  const any = resolved as Resolved<SettingSet>;
  together(any, cert, key);
  const [certFile, keyFile, clientCaFile] = [values[cert], values[key], values[ca]];
  if (certFile === undefined || keyFile === undefined) {
    if (clientCaFile !== undefined) throw new SettingsError(`${any.where(ca)} needs --${flagOf(cert)} and --${flagOf(key)} (mutual TLS)`);
    return undefined;
  }
  return { certFile, keyFile, ...(clientCaFile === undefined ? {} : { clientCaFile }) };
}
