import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which hosts an admin may point a backend at. Workers call whatever URL a backend row holds, so
 * an admin form (or a stolen admin session) must not turn them into a proxy into the cloud
 * provider's metadata service or any host inside the network: the operator lists the hosts and
 * networks backends live on (`BACKEND_URL_ALLOWLIST`), and everything else is refused.
 *
 * Rules (docs/backends.md, "Which URLs are accepted"):
 * - http or https, no `user:password@` (keys go in the API key field, not in URLs shown on screens);
 * - a host name is resolved, and every address it resolves to is checked: a name entry of the
 *   list (`api.openai.com`, `*.internal.example`) admits its host whatever it resolves to, an
 *   address or CIDR entry admits the addresses inside it;
 * - link-local (169.254.0.0/16, fe80::/10) and cloud metadata addresses are refused even when a
 *   name or a wider range (`0.0.0.0/0`) matches, unless an entry inside them lists them.
 */

export const DEFAULT_BACKEND_URL_ALLOWLIST = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,localhost,api.openai.com';

/** Addresses that only ever answer a machine about itself: instance metadata, credentials. */
const SENSITIVE: [string, number, 'ipv4' | 'ipv6'][] = [
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
  // AWS's IPv6 metadata endpoint; Alibaba Cloud's metadata service.
  ['fd00:ec2::254', 128, 'ipv6'],
  ['100.100.100.200', 32, 'ipv4'],
];
const sensitive = new BlockList();
for (const [address, prefix, family] of SENSITIVE) sensitive.addSubnet(address, prefix, family);

export interface UrlAllowlist {
  /** The list as configured, for messages. */
  readonly entries: readonly string[];
  /** The URL without a trailing slash, or why it is refused. */
  check(url: string): Promise<{ ok: true; url: string } | { ok: false; reason: string }>;
}

export class AllowlistError extends Error {
  override name = 'AllowlistError';
}

type Resolve = (host: string) => Promise<string[]>;
const resolveAll: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** `::ffff:169.254.169.254` is the IPv4 address it carries: checked as that. */
function unmapped(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : address;
}

const family = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Parses `BACKEND_URL_ALLOWLIST`: comma-separated host names (`*.` for subdomains), addresses and CIDRs. */
export function parseAllowlist(value: string): { names: string[]; networks: BlockList; sensitiveListed: BlockList; entries: string[] } {
  const names: string[] = [];
  const networks = new BlockList();
  const sensitiveListed = new BlockList();
  const entries = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const entry of entries) {
    const [address, prefixText] = entry.split('/') as [string, string | undefined];
    const version = isIP(address);
    if (version !== 0) {
      const max = version === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!/^\d+$/.test(prefixText ?? '0') || prefix > max) throw new AllowlistError(`"${entry}" has a bad prefix length (0–${max})`);
      const kind = version === 4 ? 'ipv4' : 'ipv6';
      networks.addSubnet(address, prefix, kind);
      // Only an entry inside a sensitive range opens it: a catch-all like 0.0.0.0/0 does not.
      if (SENSITIVE.some(([, sensitivePrefix, sensitiveKind]) => sensitiveKind === kind && prefix >= sensitivePrefix) && sensitive.check(address, kind)) {
        sensitiveListed.addSubnet(address, prefix, kind);
      }
    } else if (prefixText === undefined && HOST_NAME.test(entry)) {
      names.push(entry);
    } else {
      throw new AllowlistError(`"${entry}" is neither a host name, an IP address nor a CIDR`);
    }
  }
  return { names, networks, sensitiveListed, entries };
}

export function createUrlAllowlist(value: string, resolve: Resolve = resolveAll): UrlAllowlist {
  const { names, networks, sensitiveListed, entries } = parseAllowlist(value);
  const nameListed = (host: string) =>
    names.some((name) => (name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name));
  const networkListed = (address: string) => networks.check(address, family(address));

  return {
    entries,
    async check(input) {
      let url: URL;
      try {
        url = new URL(input);
      } catch {
        return { ok: false, reason: 'Enter a full URL, e.g. http://10.0.0.5:11434.' };
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return { ok: false, reason: `The URL must use http or https, not ${url.protocol.replace(':', '')}.` };
      }
      if (url.username || url.password) return { ok: false, reason: 'The URL must not contain a user name or password; put a key in the API key field.' };
      if (url.search || url.hash) return { ok: false, reason: 'The URL must not have a query or fragment.' };
      const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      let addresses: string[];
      if (isIP(host)) addresses = [host];
      else {
        try {
          addresses = await resolve(host);
        } catch {
          return { ok: false, reason: `The host ${host} cannot be resolved.` };
        }
        if (addresses.length === 0) return { ok: false, reason: `The host ${host} cannot be resolved.` };
      }
      const checked = addresses.map(unmapped);
      const refused = checked.find((address) => isIP(address) === 0 || (sensitive.check(address, family(address)) && !sensitiveListed.check(address, family(address))));
      if (refused !== undefined) return { ok: false, reason: `${host} is a link-local or metadata address (${refused}); backends cannot use it unless the operator lists it in BACKEND_URL_ALLOWLIST.` };
      if (!nameListed(host) && !checked.every(networkListed)) {
        return { ok: false, reason: `${host} is not among the hosts backends may use (BACKEND_URL_ALLOWLIST: ${entries.join(', ') || 'empty'}).` };
      }
      return { ok: true, url: url.href.replace(/\/+$/, '') };
    },
  };
}
