import { Command } from 'commander';
import { createCertificates } from '@ippro/protocol';
import { POSITIVE_INTEGER, TEXT, listOf, required, setting } from '@ippro/settings';
import { addSettings, asUsage, commandSettings } from '../command-settings';
import { UsageError } from '../exit-codes';

export const CERTS_CREATE_SETTINGS = {
  out: setting({ parse: TEXT, placeholder: 'DIR', help: 'directory of ca.crt, ca.key and NAME.crt, NAME.key per name; an existing ca.crt/ca.key there signs the new certificates' }),
  names: setting({ parse: listOf(TEXT), placeholder: 'NAME[,NAME]', help: 'one certificate per name (e.g. orchestrator,worker,cli), each valid for its name and --hosts' }),
  hosts: setting({
    parse: listOf(TEXT),
    placeholder: 'HOST[,HOST]',
    help: 'host names and IP addresses every certificate is valid for (the names clients dial, e.g. ippro-worker.ippro.svc)',
    default: 'localhost,127.0.0.1',
  }),
  days: setting({ parse: POSITIVE_INTEGER, help: 'validity of the certificates in days', default: '365' }),
};

/** `ippro certs create`: a CA and certificates for mutual TLS between the orchestrator, the workers and the artifact service. */
export function certsCommand(): Command {
  const certs = new Command('certs').description('certificates for mutual TLS between orchestrator, workers and artifact service (a small cluster or a test)');
  certs.addCommand(
    addSettings(new Command('create').exitOverride().description('make a CA (unless --out has one) and a certificate per name, for server and client use'), CERTS_CREATE_SETTINGS).action(
      (_options: unknown, command: Command) => {
        const settings = commandSettings(command, CERTS_CREATE_SETTINGS);
        const out = asUsage(() => required(settings, 'out'));
        const names = asUsage(() => required(settings, 'names'));
        const { hosts, days } = settings.values;
        let created;
        try {
          created = createCertificates({ out, days, certificates: names.map((name) => ({ name, hosts })) });
        } catch (error) {
          throw new UsageError(`certs create: ${(error as Error).message}`);
        }
        process.stdout.write(`${created.newAuthority ? 'new CA' : 'CA'}: ${created.caCert} (its key ca.key signs more: keep it off the cluster)\n`);
        for (const [name, files] of Object.entries(created.issued)) process.stdout.write(`${name}: ${files.cert} ${files.key} (valid for ${[name, ...hosts].join(', ')}; ${days} days)\n`);
      },
    ),
  );
  return certs;
}
