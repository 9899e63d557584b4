import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with named keys, for secrets at rest (cloud API keys) and Temporal payloads. The
 * first key encrypts; every key decrypts, so a key is rotated by putting a new one first and
 * dropping the old one once nothing it sealed remains (docs/security.md, "Rotating keys").
 */
export interface Keyring {
  /** Id of the key new data is sealed with. */
  readonly currentKeyId: string;
  seal(plaintext: Uint8Array): Sealed;
  open(sealed: Sealed): Uint8Array;
  /** A string for a database column: `<keyId>:<base64 nonce|ciphertext|tag>`. */
  sealText(plaintext: string): string;
  openText(sealed: string): string;
}

export interface Sealed {
  keyId: string;
  /** 12-byte nonce, then ciphertext, then the 16-byte tag. */
  data: Uint8Array;
}

export class KeyringError extends Error {
  override name = 'KeyringError';
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Parses `ENCRYPTION_KEYS`: comma-separated `id:base64` entries, each key 32 bytes, the first the
 * current one. `openssl rand -base64 32` makes a key.
 */
export function parseKeyList(value: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    if (colon < 1 || !KEY_ID.test(id)) throw new KeyringError('each key must be written id:base64 (id: letters, digits, _ or -)');
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32) throw new KeyringError(`key "${id}" must be 32 bytes of base64 (openssl rand -base64 32)`);
    if (keys.has(id)) throw new KeyringError(`key id "${id}" appears twice`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new KeyringError('at least one key is required');
  return keys;
}

export function createKeyring(keys: Map<string, Buffer>): Keyring {
  const [currentKeyId] = keys.keys();
  if (!currentKeyId) throw new KeyringError('at least one key is required');
  const keyFor = (id: string): Buffer => {
    const key = keys.get(id);
    if (!key) throw new KeyringError(`data was sealed with key "${id}", which is not in ENCRYPTION_KEYS`);
    return key;
  };

  const seal = (plaintext: Uint8Array): Sealed => {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', keyFor(currentKeyId), nonce);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: currentKeyId, data: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
  };

  const open = ({ keyId, data }: Sealed): Uint8Array => {
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new KeyringError('sealed data is truncated');
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const decipher = createDecipheriv('aes-256-gcm', keyFor(keyId), bytes.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KeyringError(`sealed data failed authentication with key "${keyId}"`);
    }
  };

  return {
    currentKeyId,
    seal,
    open,
    sealText: (plaintext) => {
      const { keyId, data } = seal(Buffer.from(plaintext, 'utf8'));
      return `${keyId}:${Buffer.from(data).toString('base64')}`;
    },
    openText: (sealed) => {
      const colon = sealed.indexOf(':');
      if (colon < 1) throw new KeyringError('sealed text has no key id');
      return Buffer.from(open({ keyId: sealed.slice(0, colon), data: Buffer.from(sealed.slice(colon + 1), 'base64') })).toString('utf8');
    },
  };
}
