import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `ip netns exec NAME` finds the files it bind-mounts over /etc (hosts, resolv.conf). */
const NETNS_ETC = '/etc/netns';

interface IpResult {
  ok: boolean;
  output: string;
}

/** Runs `ip ARGS` (never through a shell). */
function tryIp(args: readonly string[]): IpResult {
  const run = spawnSync('ip', args, { encoding: 'utf8', timeout: 20_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error === undefined ? '' : run.error.message}`.trim();
  return { ok: run.status === 0, output };
}

function ip(...args: string[]): string {
  const run = tryIp(args);
  if (!run.ok) throw new Error(`ip ${args.join(' ')} failed: ${run.output}`);
  return run.output;
}

/**
 * Why this process cannot build a virtual network, or false when it can: it must be root and
 * `ip netns add` must work here (tried for real with a namespace of its own, deleted at once).
 */
export function netnsUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  const probe = `ippro-probe-${randomBytes(4).toString('hex')}`;
  const added = tryIp(['netns', 'add', probe]);
  if (!added.ok) return `ip netns add does not work here: ${added.output}`;
  const deleted = tryIp(['netns', 'delete', probe]);
  if (!deleted.ok) return `ip netns delete does not work here: ${deleted.output}`;
  return false;
}

/** One machine on the LAN: its own network namespace with `eth0` plugged into the switch. */
export interface LanHost {
  name: string;
  namespace: string;
  /** Its IPv4 address on the LAN. */
  address: string;
  /** Its cable's end at the switch (an interface of the switch's namespace). */
  switchPort: string;
}

/** A /24 of 10.0.0.0/8 that no address or route of this (the root) namespace mentions. */
function freeSubnet(): string {
  const inUse = `${ip('-4', '-o', 'addr', 'show')}\n${ip('-4', 'route', 'show', 'table', 'all')}`;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const [second, third] = randomBytes(2);
    const prefix = `10.${200 + ((second as number) % 50)}.${third as number}`;
    if (!inUse.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 for the virtual LAN');
}

/**
 * A switched LAN of network namespaces, as separate hosts on one wire: a namespace holding a
 * bridge (the switch), one namespace per host with `eth0` on a veth pair whose other end is a
 * port of the bridge, and a veth from this (root) namespace into the switch, so that processes
 * here (the test, a Temporal server) are one more host on the LAN. Every name carries a random
 * suffix; destroy() deletes exactly what create() made, and runs on process exit as well.
 */
export class VirtualLan {
  readonly hosts = new Map<string, LanHost>();
  /** This namespace's interface on the LAN and its address. */
  readonly rootInterface: string;
  readonly rootAddress: string;
  private readonly switchNamespace: string;
  private readonly namespaces: string[] = [];
  private readonly etcDirs: string[] = [];
  private createdNetnsEtc = false;
  private destroyed = false;
  private readonly destroyOnExit = (): void => this.destroy();

  private constructor(
    readonly suffix: string,
    private readonly subnet: string,
  ) {
    this.switchNamespace = `ippro-${suffix}-switch`;
    this.rootInterface = `ipr${suffix}`;
    this.rootAddress = `${subnet}.1`;
  }

  /** Builds the LAN with one host per name (addresses .10, .11, ... in order); the root namespace is .1. */
  static create(hostNames: readonly string[]): VirtualLan {
    const lan = new VirtualLan(randomBytes(3).toString('hex'), freeSubnet());
    process.once('exit', lan.destroyOnExit);
    try {
      lan.build(hostNames);
    } catch (error) {
      lan.destroy();
      throw error;
    }
    return lan;
  }

  private addNamespace(namespace: string): void {
    ip('netns', 'add', namespace);
    this.namespaces.push(namespace);
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
  }

  private build(hostNames: readonly string[]): void {
    const sw = this.switchNamespace;
    this.addNamespace(sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    hostNames.forEach((name, index) => {
      const host: LanHost = { name, namespace: `ippro-${this.suffix}-${name}`, address: `${this.subnet}.${10 + index}`, switchPort: `p-${name}`.slice(0, 15) };
      this.addNamespace(host.namespace);
      ip('-n', sw, 'link', 'add', host.switchPort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace);
      ip('-n', sw, 'link', 'set', host.switchPort, 'master', 'br0', 'up');
      ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
      ip('-n', host.namespace, 'link', 'set', 'eth0', 'up');
      this.hosts.set(name, host);
    });
    ip('link', 'add', this.rootInterface, 'type', 'veth', 'peer', 'name', 'p-root', 'netns', sw);
    ip('-n', sw, 'link', 'set', 'p-root', 'master', 'br0', 'up');
    ip('addr', 'add', `${this.rootAddress}/24`, 'dev', this.rootInterface);
    ip('link', 'set', this.rootInterface, 'up');
  }

  host(name: string): LanHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`the LAN has no host '${name}'`);
    return host;
  }

  /** The command prefix that runs a program on a host (`ip netns exec NS`, which execs it). */
  launcher(name: string): string[] {
    return ['ip', 'netns', 'exec', this.host(name).namespace];
  }

  /**
   * The /etc/hosts that programs on `name` see (getaddrinfo reads it before DNS): localhost, and
   * each given name with all its addresses, one line per address.
   */
  setHostsFile(name: string, entries: Record<string, readonly string[]>): void {
    if (!existsSync(NETNS_ETC)) {
      mkdirSync(NETNS_ETC);
      this.createdNetnsEtc = true;
    }
    const dir = join(NETNS_ETC, this.host(name).namespace);
    mkdirSync(dir, { recursive: true });
    if (!this.etcDirs.includes(dir)) this.etcDirs.push(dir);
    const lines = ['127.0.0.1 localhost', ...Object.entries(entries).flatMap(([hostName, addresses]) => addresses.map((address) => `${address} ${hostName}`))];
    writeFileSync(join(dir, 'hosts'), `${lines.join('\n')}\n`);
  }

  /** Pulls the host's cable at the switch: its eth0 loses carrier, its processes keep running. */
  cut(name: string): void {
    ip('-n', this.switchNamespace, 'link', 'set', this.host(name).switchPort, 'down');
  }

  /** Plugs the cable back in. */
  reconnect(name: string): void {
    ip('-n', this.switchNamespace, 'link', 'set', this.host(name).switchPort, 'up');
  }

  /**
   * Deletes the namespaces (with them every veth; the root's end goes with its peer, and is
   * deleted by name besides), the /etc/netns files written, and /etc/netns if it made it.
   * Synchronous and idempotent, so that it can run from an exit handler.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.destroyOnExit);
    for (const namespace of [...this.namespaces].reverse()) tryIp(['netns', 'delete', namespace]);
    if (tryIp(['link', 'show', 'dev', this.rootInterface]).ok) tryIp(['link', 'delete', this.rootInterface]);
    for (const dir of this.etcDirs) rmSync(dir, { recursive: true, force: true });
    if (this.createdNetnsEtc && existsSync(NETNS_ETC) && readdirSync(NETNS_ETC).length === 0) rmdirSync(NETNS_ETC);
  }

  /** What of the LAN is still there (for the cleanup check): namespaces, the root interface, /etc/netns directories. */
  leftovers(): string[] {
    const listed = tryIp(['netns', 'list']).output;
    const left = this.namespaces.filter((namespace) => new RegExp(`^${namespace}\\b`, 'm').test(listed));
    if (tryIp(['link', 'show', 'dev', this.rootInterface]).ok) left.push(`interface ${this.rootInterface}`);
    return [...left, ...this.etcDirs.filter((dir) => existsSync(dir))];
  }
}
