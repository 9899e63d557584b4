import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which hosts a stored URL may point at. Workers call whatever URL a backend row or a project's
 * webhook holds, so a form (or a stolen session) must not turn them into a proxy into the cloud
 * provider's metadata service or any host inside the network: the operator lists the hosts and
 * networks backends live on (`BACKEND_URL_ALLOWLIST`) and webhooks may reach
 * (`WEBHOOK_URL_ALLOWLIST`), and everything else is refused.
 *
 * Rules (docs/backends.md, "Which URLs are accepted"):
 * - http or https, no `user:password@` (keys go in the API key field, not in URLs shown on screens);
 * - a host name is resolved, and every address it resolves to is checked: a name entry of the
 *   list (`api.openai.com`, `*.internal.example`) admits its host whatever it resolves to, an
 *   address or CIDR entry admits the addresses inside it;
 * - the entry `public` admits every globally routable address: none of loopback, private,
 *   shared, link-local, multicast or reserved ranges (webhooks' default: receivers on the internet);
 * - link-local (169.254.0.0/16, fe80::/10) and cloud metadata addresses are refused even when a
 *   name or a wider range (`0.0.0.0/0`) matches, unless an entry inside them lists them.
 */

export const DEFAULT_BACKEND_URL_ALLOWLIST = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,localhost,api.openai.com';
export const DEFAULT_WEBHOOK_URL_ALLOWLIST = 'public';

/** What a list guards, for its messages. */
export interface AllowlistPurpose {
  setting: string;
  /** Plural, as in "not among the hosts backends may use". */
  subject: string;
}
export const BACKEND_URLS: AllowlistPurpose = { setting: 'BACKEND_URL_ALLOWLIST', subject: 'backends' };
export const WEBHOOK_URLS: AllowlistPurpose = { setting: 'WEBHOOK_URL_ALLOWLIST', subject: 'webhooks' };

/** Addresses that are not the public internet's (RFC 6890 special-purpose ranges and the like). */
const NOT_PUBLIC: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 127, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];
const notPublic = new BlockList();
for (const [address, prefix, family] of NOT_PUBLIC) notPublic.addSubnet(address, prefix, family);

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
  /**
   * Why a connection to `host` at these addresses is refused, or null: for a caller that resolves
   * the name itself at connection time, so a name re-pointed since `check` cannot slip past it.
   */
  refusal(host: string, addresses: string[]): string | null;
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

/** Parses an allow-list: comma-separated host names (`*.` for subdomains), addresses, CIDRs and `public`. */
export function parseAllowlist(value: string): { names: string[]; networks: BlockList; sensitiveListed: BlockList; publicListed: boolean; entries: string[] } {
  let publicListed = false;
  const names: string[] = [];
  const networks = new BlockList();
  const sensitiveListed = new BlockList();
  const entries = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const entry of entries) {
    if (entry === 'public') {
      publicListed = true;
      continue;
    }
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
  return { names, networks, sensitiveListed, publicListed, entries };
}

export function createUrlAllowlist(value: string, { purpose = BACKEND_URLS, resolve = resolveAll }: { purpose?: AllowlistPurpose; resolve?: Resolve } = {}): UrlAllowlist {
  const { names, networks, sensitiveListed, publicListed, entries } = parseAllowlist(value);
  const nameListed = (host: string) =>
    names.some((name) => (name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name));
  const networkListed = (address: string) =>
    networks.check(address, family(address)) || (publicListed && !notPublic.check(address, family(address)));

  const refusal = (host: string, addresses: string[]): string | null => {
    const checked = addresses.map(unmapped);
    const refused = checked.find((address) => isIP(address) === 0 || (sensitive.check(address, family(address)) && !sensitiveListed.check(address, family(address))));
    if (refused !== undefined) return `${host} is a link-local or metadata address (${refused}); ${purpose.subject} cannot use it unless the operator lists it in ${purpose.setting}.`;
    if (!nameListed(host) && !checked.every(networkListed)) {
      return `${host} is not among the hosts ${purpose.subject} may use (${purpose.setting}: ${entries.join(', ') || 'empty'}).`;
    }
    return null;
  };

  return {
    entries,
    refusal,
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
      if (url.username || url.password) return { ok: false, reason: 'The URL must not contain a user name or password.' };
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
      const reason = refusal(host, addresses);
      return reason === null ? { ok: true, url: url.href.replace(/\/+$/, '') } : { ok: false, reason };
    },
  };
}
