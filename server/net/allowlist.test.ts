import { describe, expect, it } from 'vitest';
import { createUrlAllowlist, DEFAULT_BACKEND_URL_ALLOWLIST, DEFAULT_WEBHOOK_URL_ALLOWLIST, parseAllowlist, WEBHOOK_URLS } from './allowlist';

// Names resolve through this table instead of the machine's DNS, so the rules are tested alone.
const dns: Record<string, string[]> = {
  'gpu-1.lab.internal': ['10.0.3.7'],
  'api.openai.com': ['162.159.140.245'],
  'evil.example': ['169.254.169.254'],
  'mapped.example': ['::ffff:169.254.169.254'],
  'public.example': ['93.184.215.14'],
  'split.example': ['10.0.0.9', '93.184.215.14'],
};
const resolve = async (host: string) => {
  const found = dns[host];
  if (!found) throw new Error('ENOTFOUND');
  return found;
};
const allow = (list: string) => createUrlAllowlist(list, { resolve });
const reason = async (list: string, url: string) => {
  const result = await allow(list).check(url);
  return result.ok ? null : result.reason;
};

describe('backend URL allow-list', () => {
  it('admits loopback, private ranges and the OpenAI API by default, the URL without its trailing slash', async () => {
    const list = allow(DEFAULT_BACKEND_URL_ALLOWLIST);
    expect(await list.check('http://127.0.0.1:11434/')).toEqual({ ok: true, url: 'http://127.0.0.1:11434' });
    expect(await list.check('http://gpu-1.lab.internal:11434')).toEqual({ ok: true, url: 'http://gpu-1.lab.internal:11434' });
    expect(await list.check('http://[::1]:11434')).toEqual({ ok: true, url: 'http://[::1]:11434' });
    expect(await list.check('https://api.openai.com/v1')).toEqual({ ok: true, url: 'https://api.openai.com/v1' });
  });

  it('refuses other schemes, credentials, queries and unresolvable or foreign hosts, saying why', async () => {
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'ftp://10.0.0.1/')).toMatch(/http or https, not ftp/);
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'not a url')).toMatch(/full URL/);
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://admin:s3cret@10.0.0.1:11434')).toMatch(/user name or password/);
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://10.0.0.1:11434/?x=1')).toMatch(/query or fragment/);
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://nowhere.invalid:11434')).toMatch(/cannot be resolved/);
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://public.example:11434')).toMatch(/not among the hosts backends may use/);
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://8.8.8.8:11434')).toMatch(/not among/);
    // Every address a name resolves to must be admitted, not just the first.
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://split.example:11434')).toMatch(/not among/);
  });

  it('refuses link-local and metadata addresses even behind a listed name or a wide range, unless listed by address', async () => {
    expect(await reason(DEFAULT_BACKEND_URL_ALLOWLIST, 'http://169.254.169.254/latest/meta-data')).toMatch(/link-local or metadata/);
    expect(await reason('evil.example', 'http://evil.example/')).toMatch(/link-local or metadata/);
    expect(await reason('0.0.0.0/0', 'http://mapped.example/')).toMatch(/link-local or metadata/);
    expect(await reason('::/0', 'http://[fe80::1]:11434')).toMatch(/link-local or metadata/);
    expect(await reason('0.0.0.0/0', 'http://100.100.100.200/')).toMatch(/link-local or metadata/);
    expect(await reason('169.254.10.0/24', 'http://169.254.10.5:11434')).toBeNull();
  });

  it('matches names exactly or by a *. suffix, and CIDRs of both families', async () => {
    expect(await reason('*.lab.internal', 'http://gpu-1.lab.internal:11434')).toBeNull();
    expect(await reason('lab.internal', 'http://gpu-1.lab.internal:11434')).toMatch(/not among/);
    expect(await reason('10.0.3.0/24', 'http://gpu-1.lab.internal:11434')).toBeNull();
    expect(await reason('10.0.4.0/24', 'http://gpu-1.lab.internal:11434')).toMatch(/not among/);
    expect(await reason('fd12::/16', 'http://[fd12::5]:11434')).toBeNull();
  });

  it('admits only globally routable addresses under `public`, webhooks’ default, naming their setting', async () => {
    const webhooks = createUrlAllowlist(DEFAULT_WEBHOOK_URL_ALLOWLIST, { purpose: WEBHOOK_URLS, resolve });
    const refused = async (url: string) => {
      const result = await webhooks.check(url);
      return result.ok ? null : result.reason;
    };
    expect(await refused('https://public.example/hooks')).toBeNull();
    expect(await refused('https://8.8.8.8/hooks')).toBeNull();
    expect(await refused('http://127.0.0.1:8080/hook')).toMatch(/not among the hosts webhooks may use \(WEBHOOK_URL_ALLOWLIST: public\)/);
    for (const url of ['http://10.0.0.5/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://[::1]/', 'http://[fd00::1]/', 'http://split.example/', 'http://gpu-1.lab.internal/']) {
      expect(await refused(url), url).toMatch(/not among/);
    }
    expect(await refused('http://169.254.169.254/latest/meta-data')).toMatch(/link-local or metadata address \(169\.254\.169\.254\); webhooks cannot use it unless the operator lists it in WEBHOOK_URL_ALLOWLIST/);
    // Listed by address, a loopback receiver is admitted; the same check answers a connection's resolved addresses.
    const listed = createUrlAllowlist('public,127.0.0.1', { purpose: WEBHOOK_URLS, resolve });
    expect(await listed.check('http://127.0.0.1:8080/hook')).toEqual({ ok: true, url: 'http://127.0.0.1:8080/hook' });
    expect(listed.refusal('public.example', ['127.0.0.2'])).toMatch(/not among/);
    expect(listed.refusal('public.example', ['93.184.215.14'])).toBeNull();
  });

  it('refuses a malformed list at start-up', () => {
    expect(() => parseAllowlist('10.0.0.0/33')).toThrow(/bad prefix length/);
    expect(() => parseAllowlist('http://host')).toThrow(/neither a host name/);
    expect(parseAllowlist(' 10.0.0.0/8 , *.lab.internal ,').entries).toEqual(['10.0.0.0/8', '*.lab.internal']);
  });
});
