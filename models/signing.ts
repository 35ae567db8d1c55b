import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Signature, signedBytes } from './manifest.ts';

/** A public key the device accepts signatures from, with the id manifests name it by. */
export interface TrustedKey {
  readonly keyId: string;
  readonly key: KeyObject;
  readonly source: string;
}

/** First 16 hex digits of the sha256 of the raw 32-byte ed25519 public key. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  if (publicKey.asymmetricKeyType !== 'ed25519' || typeof jwk.x !== 'string') throw new Error('not an ed25519 key');
  return createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex').slice(0, 16);
}

export function generateSigningKey(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

export function readPrivateKey(file: string): KeyObject {
  const key = createPrivateKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: expected an ed25519 private key`);
  return key;
}

export function readTrustedKey(file: string): TrustedKey {
  const key = createPublicKey(readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: expected an ed25519 public key`);
  return { keyId: keyIdOf(key), key, source: resolve(file) };
}

/** The signature of a manifest (its raw JSON object, any existing signature ignored). */
export function signManifest(raw: Record<string, unknown>, privateKey: KeyObject): Signature {
  return {
    alg: 'ed25519',
    keyId: keyIdOf(privateKey),
    value: sign(null, signedBytes(raw), privateKey).toString('base64'),
  };
}

/** Which trusted key signed this manifest, or why none did. */
export function checkSignature(
  raw: Record<string, unknown>,
  signature: Signature | undefined,
  trusted: readonly TrustedKey[],
): { ok: true; keyId: string } | { ok: false; reason: string } {
  if (!signature) return { ok: false, reason: 'manifest is not signed (glance sign --key KEY.pem MANIFEST)' };
  const key = trusted.find((k) => k.keyId === signature.keyId);
  if (!key) {
    const ids = trusted.map((k) => k.keyId).join(', ') || 'none';
    return { ok: false, reason: `signed by unknown key ${signature.keyId} (trusted: ${ids})` };
  }
  const good = verify(null, signedBytes(raw), key.key, Buffer.from(signature.value, 'base64'));
  return good
    ? { ok: true, keyId: key.keyId }
    : { ok: false, reason: `signature by key ${key.keyId} does not match the manifest (it was changed after signing)` };
}
