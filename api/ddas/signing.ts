/**
 * JAdES-B payload signing for DDAS (Geonovum KP-APIs signing module, as `DDAS-VS.yaml` describes it):
 * the `nlgov-adr-payload-sig` header is a JWS in compact serialization with a detached payload
 * (`header..signature`), PS256, over the exact body bytes; the protected header carries typ JOSE, kid, the
 * x5c certificate chain, x5t#S256 and the claimed signing time (sigT, critical as JAdES requires). A
 * `Digest: SHA-256=...` header (RFC 3230) accompanies it.
 *
 * Key and certificate come from PEM files in production; for the demo a self-signed pair is made here
 * with node:crypto alone (a minimal DER encoder), so nothing is downloaded.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compactVerify, decodeProtectedHeader } from 'jose';

/** The private key and certificate chain (leaf first) a DDAS response is signed with. */
export interface SigningMaterial {
  key: KeyObject;
  chain: X509Certificate[];
  kid: string;
}

/** The headers of a signed body. */
export interface SignatureHeaders {
  Digest: string;
  'nlgov-adr-payload-sig': string;
}

/** `SHA-256=<base64>` of the body (RFC 3230 instance digest). */
export function digestOf(body: Uint8Array): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}

function thumbprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url');
}

/** Bytes base64url-encoded at a time while signing (a multiple of 3, so the slices need no padding). */
const SIGN_SLICE = 3 * 256 * 1024;

/**
 * Signs the exact bytes of `body`: a detached JWS (PS256) and the Digest header. The signing input is
 * hashed in pieces with node:crypto rather than assembled as one string, as a 50,000-signal page is
 * some 30 MB; `verifyBody` (jose) checks the result like any JWS.
 */
export async function signBody(body: Uint8Array, material: SigningMaterial): Promise<SignatureHeaders> {
  const leaf = material.chain[0]!;
  const header = Buffer.from(
    JSON.stringify({
      alg: 'PS256',
      typ: 'JOSE',
      kid: material.kid,
      x5c: material.chain.map((cert) => cert.raw.toString('base64')),
      'x5t#S256': thumbprint(leaf),
      sigT: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      crit: ['sigT'],
    }),
  ).toString('base64url');
  const signer = createSign('sha256');
  signer.update(`${header}.`);
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // base64url of consecutive slices whose length is a multiple of 3 concatenates to that of the whole.
  for (let at = 0; at < bytes.length; at += SIGN_SLICE) {
    signer.update(bytes.subarray(at, at + SIGN_SLICE).toString('base64url'));
  }
  const signature = signer.sign({
    key: material.key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  return { Digest: digestOf(body), 'nlgov-adr-payload-sig': `${header}..${signature.toString('base64url')}` };
}

/** Outcome of checking a signed body; `reason` is safe to show (it never echoes the body). */
export type VerifyResult = { ok: true; certificate: X509Certificate } | { ok: false; reason: string };

export interface VerifyOptions {
  /**
   * Certificates to trust: the chain must end in (or be issued by) one of them. Without them the signature
   * proves integrity only, with the certificate the sender supplied.
   */
  trusted?: X509Certificate[];
  now?: Date;
}

function chainTrusted(chain: X509Certificate[], trusted: X509Certificate[]): boolean {
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const parent = chain[i + 1]!;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  const last = chain[chain.length - 1]!;
  return trusted.some(
    (anchor) =>
      anchor.fingerprint256 === last.fingerprint256 ||
      (last.checkIssued(anchor) && last.verify(anchor.publicKey)),
  );
}

/**
 * Verifies a detached `nlgov-adr-payload-sig` over `body` with the key of the first x5c certificate,
 * and the Digest header when given. Revocation (OCSP/CRL) is not checked.
 */
export async function verifyBody(
  body: Uint8Array,
  headers: { signature: string | undefined; digest: string | undefined },
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const { signature, digest } = headers;
  if (!signature) return { ok: false, reason: 'nlgov-adr-payload-sig ontbreekt' };
  if (!digest) return { ok: false, reason: 'Digest ontbreekt' };
  if (digest !== digestOf(body)) return { ok: false, reason: 'Digest komt niet overeen met de body' };
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '') {
    return { ok: false, reason: 'nlgov-adr-payload-sig is geen JWS met losgekoppelde payload' };
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(signature);
  } catch {
    return { ok: false, reason: 'onleesbare JWS-header' };
  }
  if (header.alg !== 'PS256') return { ok: false, reason: 'alg moet PS256 zijn' };
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) return { ok: false, reason: 'x5c ontbreekt' };
  let chain: X509Certificate[];
  try {
    chain = header.x5c.map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
  } catch {
    return { ok: false, reason: 'x5c bevat een onleesbaar certificaat' };
  }
  const leaf = chain[0]!;
  const now = options.now ?? new Date();
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    return { ok: false, reason: 'certificaat is niet geldig op dit moment' };
  }
  const x5t = header['x5t#S256'];
  if (x5t !== undefined && x5t !== thumbprint(leaf)) return { ok: false, reason: 'x5t#S256 klopt niet' };
  if (options.trusted && !chainTrusted(chain, options.trusted)) {
    return { ok: false, reason: 'certificaatketen is niet vertrouwd' };
  }
  try {
    const compact = `${parts[0]}.${Buffer.from(body).toString('base64url')}.${parts[2]}`;
    await compactVerify(compact, leaf.publicKey, { algorithms: ['PS256'], crit: { sigT: true } });
  } catch {
    return { ok: false, reason: 'handtekening is ongeldig' };
  }
  return { ok: true, certificate: leaf };
}

// ---------------------------------------------------------------------------------------------------
// Loading key material, and the demo's self-signed pair
// ---------------------------------------------------------------------------------------------------

/** Parses every certificate in a PEM bundle, in file order (leaf first). */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** Builds signing material from a PEM private key and a PEM chain; throws when they do not belong together. */
export function materialFromPem(keyPem: string, certPem: string, kid?: string): SigningMaterial {
  const key = createPrivateKey(keyPem);
  const chain = parseCertificates(certPem);
  const leaf = chain[0];
  if (!leaf) throw new Error('the DDAS certificate file holds no certificate');
  if (!leaf.checkPrivateKey(key)) throw new Error('the DDAS signing key does not belong to the certificate');
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
    throw new Error('PS256 needs an RSA signing key');
  }
  return { key, chain, kid: kid ?? thumbprint(leaf) };
}

/**
 * Reads the configured key and certificate files, or (both unset) the demo pair under `demoDir`,
 * generating it on first use.
 */
export function loadSigningMaterial(options: {
  keyFile?: string | undefined;
  certFile?: string | undefined;
  kid?: string | undefined;
  demoDir: string;
  subject?: string;
}): SigningMaterial {
  if (options.keyFile && options.certFile) {
    return materialFromPem(
      readFileSync(options.keyFile, 'utf8'),
      readFileSync(options.certFile, 'utf8'),
      options.kid,
    );
  }
  const keyFile = `${options.demoDir}/demo-signing-key.pem`;
  const certFile = `${options.demoDir}/demo-signing-cert.pem`;
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const pair = generateSelfSigned(options.subject ?? 'vroegsignalering DDAS demo');
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
    writeFileSync(certFile, pair.certPem);
  }
  return materialFromPem(readFileSync(keyFile, 'utf8'), readFileSync(certFile, 'utf8'), options.kid);
}

// A minimal DER encoder: enough for one self-signed X.509 v3 certificate.
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const sequence = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const integer = (bytes: Buffer) =>
  der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const utf8 = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
const octets = (bytes: Buffer) => der(0x04, bytes);
const explicit = (n: number, content: Buffer) => der(0xa0 + n, content);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const v of rest) {
    const groups: number[] = [];
    for (let x = v; ; x = Math.floor(x / 128)) {
      groups.unshift((x % 128) | (groups.length ? 0x80 : 0));
      if (x < 128) break;
    }
    out.push(...groups);
  }
  return der(0x06, Buffer.from(out));
}
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return date.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : der(0x18, Buffer.from(`${iso}Z`));
}

/**
 * A certificate serial from random bytes: positive (top bit clear) and in DER's minimal form (first byte
 * never 0, which a parser refuses as "illegal padding" when the next byte is below 0x80: 1 start in 128).
 */
export function serialNumber(random: Buffer): Buffer {
  const serial = Buffer.from(random);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

/** A self-signed RSA 2048 certificate (sha256WithRSAEncryption), valid for `days`, as PEM strings. */
export function generateSelfSigned(
  commonName: string,
  days = 825,
  now = new Date(),
): { keyPem: string; certPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));
  const algorithm = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha1').update(spki).digest();
  const extensions = sequence(
    // basicConstraints: not a CA (critical)
    sequence(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), octets(sequence())),
    // keyUsage: digitalSignature (critical)
    sequence(oid('2.5.29.15'), der(0x01, Buffer.from([0xff])), octets(der(0x03, Buffer.from([0x07, 0x80])))),
    sequence(oid('2.5.29.14'), octets(octets(keyId))),
  );
  const serial = serialNumber(randomBytes(16));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name,
    sequence(time(new Date(now.getTime() - 60_000)), time(new Date(now.getTime() + days * 86_400_000))),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = sequence(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = cert.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`,
  };
}
