/**
 * Encrypts every Temporal payload (AES-256-GCM) before it leaves the process: the second line of defence
 * behind the rule that payloads carry ids, enums and amounts only. Histories on the server, in its
 * database and in the Web UI hold ciphertext; the client and worker of this application decode.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A codec for one 32-byte key; the key's id (a hash prefix) travels in each payload's metadata. */
export function createEncryptionCodec(key: Buffer): PayloadCodec {
  if (key.length !== 32) throw new Error('The payload encryption key must be 32 bytes');
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: { encoding: encoder.encode(ENCODING), 'encryption-key-id': encoder.encode(keyId) },
          data,
        };
      });
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => {
        const encoding = payload.metadata?.encoding;
        if (!encoding || decoder.decode(encoding) !== ENCODING) return payload;
        const usedKey = payload.metadata?.['encryption-key-id'];
        if (!usedKey || decoder.decode(usedKey) !== keyId) {
          throw new Error('Payload was encrypted with another key (encryption-key-id mismatch)');
        }
        const data = Buffer.from(payload.data ?? new Uint8Array());
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
        decipher.setAuthTag(data.subarray(data.length - 16));
        const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plain) as Payload;
      });
    },
  };
}

/**
 * The key from PAYLOAD_ENCRYPTION_KEY (base64 of 32 bytes), or else from a key file under the data folder,
 * created on first use (mode 0600). Every process of one installation must use the same key.
 */
export function loadPayloadKey(configured: string | undefined, keyFile: string): Buffer {
  if (configured) return Buffer.from(configured, 'base64');
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
  }
  return Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
}

/** The failure converter module (workflows/failure-converter.cjs): messages and stacks encoded too. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(
  new URL('../workflows/failure-converter.cjs', import.meta.url),
);

/**
 * The data converter of every client and worker of this application: payloads encrypted with `key`, and
 * failures' messages and stack traces moved into an encrypted payload as well.
 */
export function encryptingDataConverter(key: Buffer): DataConverter {
  return { payloadCodecs: [createEncryptionCodec(key)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
