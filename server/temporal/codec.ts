import { deflateRawSync, inflateRawSync } from 'node:zlib';
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
 *
 * Large payloads are deflated before they are sealed (ciphertext does not compress). Temporal
 * refuses a payload past 2 MB, and the largest are the scheduler's: the waiting list it carries
 * across continue-as-new and the batches of requests it is signalled, each request repeating its
 * tier. Deflated, they take about a third of the room (bench/README.md, "Scheduler ceiling"),
 * and so does the scheduler's history a replay reads. The metadata says so; the size of a
 * compressed payload says something of how repetitive it is, nothing a stranger could steer.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const COMPRESSION_METADATA = 'compression';
const DEFLATE = 'deflate-raw';
/** Below this, deflating saves too little to be worth its CPU (most payloads are a few hundred bytes). */
const COMPRESS_FROM_BYTES = 4096;

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const text = new TextEncoder();
const untext = new TextDecoder();

export function createEncryptionCodec(keyring: Keyring): PayloadCodec {
  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const plain = PayloadMessage.encode(payload).finish();
        const deflated = plain.length >= COMPRESS_FROM_BYTES;
        const sealed = keyring.seal(deflated ? deflateRawSync(plain) : plain);
        return {
          metadata: {
            encoding: text.encode(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: text.encode(sealed.keyId),
            ...(deflated ? { [COMPRESSION_METADATA]: text.encode(DEFLATE) } : {}),
          },
          data: sealed.data,
        };
      });
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        // Payloads written before the codec (and the replayed histories recorded then) pass as they are.
        if (untext.decode(payload.metadata?.encoding ?? new Uint8Array()) !== ENCRYPTED_ENCODING) return payload;
        const keyId = untext.decode(payload.metadata?.[KEY_ID_METADATA] ?? new Uint8Array());
        const opened = keyring.open({ keyId, data: payload.data ?? new Uint8Array() });
        const compression = untext.decode(payload.metadata?.[COMPRESSION_METADATA] ?? new Uint8Array());
        if (compression !== '' && compression !== DEFLATE) throw new Error(`payload compressed as "${compression}", which this codec does not know`);
        return PayloadMessage.decode(compression === DEFLATE ? inflateRawSync(opened) : opened) as Payload;
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
