import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, KeyringError, parseKeyList } from './keyring';

const keyText = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('keyring', () => {
  it('seals with the first key and opens what any listed key sealed', () => {
    const old = keyText('k1');
    const sealedByOld = createKeyring(parseKeyList(old)).sealText('sk-secret-1234');
    const rotated = createKeyring(parseKeyList(`${keyText('k2')},${old}`));
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.openText(sealedByOld)).toBe('sk-secret-1234');
    const sealedByNew = rotated.sealText('sk-secret-5678');
    expect(sealedByNew.startsWith('k2:')).toBe(true);
    expect(sealedByNew).not.toContain('5678');
    expect(rotated.openText(sealedByNew)).toBe('sk-secret-5678');
  });

  it('never seals the same text to the same bytes', () => {
    const ring = createKeyring(parseKeyList(keyText('k1')));
    expect(ring.sealText('same')).not.toBe(ring.sealText('same'));
  });

  it('refuses tampered data and data sealed with a key it no longer holds', () => {
    const ring = createKeyring(parseKeyList(keyText('k1')));
    const sealed = ring.seal(Buffer.from('payload'));
    const tampered = Buffer.from(sealed.data);
    tampered[15] = (tampered[15] ?? 0) ^ 1;
    expect(() => ring.open({ keyId: 'k1', data: tampered })).toThrow(KeyringError);
    const other = createKeyring(parseKeyList(keyText('k9')));
    expect(() => other.open(sealed)).toThrow(/not in ENCRYPTION_KEYS/);
  });

  it('refuses malformed key lists', () => {
    expect(() => parseKeyList('')).toThrow(/at least one key/);
    expect(() => parseKeyList('k1:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => parseKeyList(`${keyText('a')},${keyText('a')}`)).toThrow(/twice/);
    expect(() => parseKeyList(randomBytes(32).toString('base64'))).toThrow(/id:base64/);
  });
});
