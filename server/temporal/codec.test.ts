import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createEncryptionCodec, ENCRYPTED_ENCODING, payloadCodec, payloadFromJson, payloadToJson } from './codec';
import { createKeyring, parseKeyList } from '../crypto/keyring';

const key = (id: string, byte: number) => `${id}:${Buffer.alloc(32, byte).toString('base64')}`;
const prompt = { requirements: 'A function that parses ISO dates', messages: [{ role: 'user', content: 'secret team code' }] };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('payload codec', () => {
  it('seals a payload whole, naming its key in the metadata, and opens it again', async () => {
    const codec = payloadCodec(key('k1', 1));
    const plain = defaultPayloadConverter.toPayload(prompt);
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata!['encryption-key-id'])).toBe('k1');
    expect(Object.keys(sealed!.metadata!).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(text(sealed!.data)).not.toContain('secret team code');
    expect(text(sealed!.data)).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(prompt);
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('deflates a large payload before sealing it, says so in the metadata, and opens it whole', async () => {
    const codec = payloadCodec(key('k1', 1));
    const waiting = { jobs: Array.from({ length: 2_000 }, (_, i) => ({ jobId: `job-${i}`, tier: 'free', model: 'qwen2.5-coder:7b' })) };
    const plain = defaultPayloadConverter.toPayload(waiting);
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed!.metadata!.compression)).toBe('deflate-raw');
    expect(sealed!.data!.length).toBeLessThan(plain.data!.length / 4);
    expect(defaultPayloadConverter.fromPayload((await codec.decode([sealed!]))[0]!)).toEqual(waiting);
    const unknown = { ...sealed!, metadata: { ...sealed!.metadata, compression: Buffer.from('zstd') } };
    await expect(codec.decode([unknown])).rejects.toThrow(/compressed as "zstd"/);
  });

  it('rotates by key list: the first key seals, every listed key opens, an unlisted one is refused', async () => {
    const before = payloadCodec(key('old', 1));
    const after = payloadCodec(`${key('new', 2)},${key('old', 1)}`);
    const [sealedBefore] = await before.encode([defaultPayloadConverter.toPayload(prompt)]);
    const [sealedAfter] = await after.encode([defaultPayloadConverter.toPayload(prompt)]);
    expect(text(sealedAfter!.metadata!['encryption-key-id'])).toBe('new');
    for (const sealed of [sealedBefore!, sealedAfter!]) expect(defaultPayloadConverter.fromPayload((await after.decode([sealed]))[0]!)).toEqual(prompt);
    await expect(payloadCodec(key('new', 2)).decode([sealedBefore!])).rejects.toThrow(/key "old", which is not in ENCRYPTION_KEYS/);
  });

  it('passes payloads written before the codec through, and refuses a tampered one', async () => {
    const codec = createEncryptionCodec(createKeyring(parseKeyList(key('k1', 1))));
    const plain = defaultPayloadConverter.toPayload(prompt);
    expect(await codec.decode([plain])).toEqual([plain]);
    const [sealed] = await codec.encode([plain]);
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).fill(0, 20, 21) };
    await expect(codec.decode([tampered])).rejects.toThrow(/failed authentication/);
  });

  it('carries payloads in the codec server’s proto3 JSON (every bytes field base64) both ways', async () => {
    const [sealed] = await payloadCodec(key('k1', 1)).encode([defaultPayloadConverter.toPayload(prompt)]);
    const json = payloadToJson(sealed!);
    expect(json.metadata!.encoding).toBe(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
    expect(payloadToJson(payloadFromJson(json))).toEqual(json);
  });
});
