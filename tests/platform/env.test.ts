import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerEnv, resourceConfig } from '../../server/env';

const base = { NODE_ENV: 'test', DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db' } as const;

describe('trusted proxies', () => {
  it('reads a hop count as a number and addresses as Express takes them; unset trusts none', () => {
    expect(loadServerEnv({ ...base, TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadServerEnv({ ...base, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
    expect(loadServerEnv(base).TRUST_PROXY).toBeUndefined();
  });
});

describe('resource manager configuration', () => {
  it('defaults to the seed’s autoScaling block and a 5 s sample', () => {
    expect(resourceConfig(loadServerEnv(base))).toEqual({
      sampleIntervalMs: 5_000,
      windowSize: 12,
      probeFailuresToDown: 2,
      preferCloudAfterWaitMs: 120_000,
      autoScaling: { minInstances: 2, maxInstances: 10, scaleUpQueueDepth: 50, scaleDownQueueDepth: 5, scaleUpCooldownMs: 120_000, scaleDownCooldownMs: 600_000 },
    });
    expect(loadServerEnv(base).SCALE_HOOK_COMMAND).toBeUndefined();
  });

  it.each([
    [{ SCALE_MIN_INSTANCES: '5', SCALE_MAX_INSTANCES: '3' }, 'Configuration error: SCALE_MAX_INSTANCES is invalid (must be at least SCALE_MIN_INSTANCES=5).'],
    [{ SCALE_UP_QUEUE_DEPTH: '5', SCALE_DOWN_QUEUE_DEPTH: '5' }, 'Configuration error: SCALE_DOWN_QUEUE_DEPTH is invalid (must be below SCALE_UP_QUEUE_DEPTH=5).'],
    [{ RESOURCE_SAMPLE_INTERVAL_MS: '10' }, 'Configuration error: RESOURCE_SAMPLE_INTERVAL_MS is invalid (Too small: expected number to be >=100).'],
    [{ METRICS_TOKEN: 'short' }, 'Configuration error: METRICS_TOKEN is invalid (must be at least 16 characters).'],
    [{ TRUST_PROXY: '10.0.0.1; rm -rf' }, 'Configuration error: TRUST_PROXY is invalid (must be a hop count or comma-separated proxy addresses).'],
  ])('refuses %o with one line naming the variable', (vars, message) => {
    expect(() => loadServerEnv({ ...base, ...vars })).toThrow(new ConfigError(message));
  });
});

describe('secrets', () => {
  const key = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
  const production = { ...base, NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(40), ENCRYPTION_KEYS: key } as const;

  it('production requires the session secret and the encryption keys; development supplies fixed ones', () => {
    expect(loadServerEnv(production).ENCRYPTION_KEYS).toBe(key);
    expect(() => loadServerEnv({ ...production, ENCRYPTION_KEYS: undefined })).toThrow(
      new ConfigError('Configuration error: ENCRYPTION_KEYS is missing (required in production).'),
    );
    expect(() => loadServerEnv({ ...production, SESSION_SECRET: undefined })).toThrow(/SESSION_SECRET is missing/);
    expect(loadServerEnv(base).ENCRYPTION_KEYS).toMatch(/^dev:/);
  });

  it('refuses a key list that is not id:base64 of 32 bytes', () => {
    expect(() => loadServerEnv({ ...base, ENCRYPTION_KEYS: 'k1:c2hvcnQ=' })).toThrow(
      new ConfigError('Configuration error: ENCRYPTION_KEYS is invalid (key "k1" must be 32 bytes of base64 (openssl rand -base64 32)).'),
    );
  });
});
