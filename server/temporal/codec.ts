import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module without static named exports: Node's ESM loader offers only its default.
import proto from '@temporalio/proto';
import { createKeyring, parseKeyList, type Keyring } from '../crypto/keyring';

/**
 * Temporal payloads (workflow and activity inputs and results, heartbeat checkpoints, query and
 * signal arguments) sealed with the keyring before they leave the process, so the Temporal
 * server, its database and its UI hold only ciphertext: prompts, outputs and code of every team
 * pass through them. The whole original payload (its metadata too) is sealed; the key id travels
 * in the metadata, so a payload sealed before a key rotation still opens while its key is listed.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const text = new TextEncoder();
const untext = new TextDecoder();

export function createEncryptionCodec(keyring: Keyring): PayloadCodec {
  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const sealed = keyring.seal(PayloadMessage.encode(payload).finish());
        return { metadata: { encoding: text.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text.encode(sealed.keyId) }, data: sealed.data };
      });
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        // Payloads written before the codec (and the replayed histories recorded then) pass as they are.
        if (untext.decode(payload.metadata?.encoding ?? new Uint8Array()) !== ENCRYPTED_ENCODING) return payload;
        const keyId = untext.decode(payload.metadata?.[KEY_ID_METADATA] ?? new Uint8Array());
        const opened = keyring.open({ keyId, data: payload.data ?? new Uint8Array() });
        return PayloadMessage.decode(opened) as Payload;
      });
    },
  };
}

/** The codec over ENCRYPTION_KEYS. */
export const payloadCodec = (encryptionKeys: string): PayloadCodec => createEncryptionCodec(createKeyring(parseKeyList(encryptionKeys)));

/** What every Temporal client, worker and replayer of this app is given: payloads sealed with ENCRYPTION_KEYS. */
export const payloadDataConverter = (encryptionKeys: string): DataConverter => ({ payloadCodecs: [payloadCodec(encryptionKeys)] });

/** A payload as the codec-server protocol carries it: proto3 JSON, every bytes field base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export const payloadFromJson = (json: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(json.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(json.data ?? '', 'base64'),
});

export const payloadToJson = (payload: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});
