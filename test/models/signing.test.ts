import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsConfigSchema } from '../../models/config.ts';
import { canonicalJson, parseManifest } from '../../models/manifest.ts';
import { openSession } from '../../models/session.ts';
import { checkSignature, keyIdOf, readTrustedKey, signManifest } from '../../models/signing.ts';
import { FIXTURES, makeKey, readManifest } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('manifest signatures', () => {
  it('canonical JSON sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: true })).toBe('{"a":true,"b":[1,{"c":null,"d":"x"}]}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/NaN/);
  });

  it('a signature survives reordering and re-indenting, not a changed value', () => {
    const key = makeKey();
    const m = readManifest(join(FIXTURES, 'scale', '1.0.0'));
    const signature = signManifest(m, key.privateKey);
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(m).reverse()), null, 4));
    expect(checkSignature(reordered, signature, [key.trusted])).toEqual({ ok: true, keyId: key.trusted.keyId });
    const changed = { ...m, sha256: 'f'.repeat(64) };
    expect(checkSignature(changed, signature, [key.trusted])).toMatchObject({ ok: false });
    expect(checkSignature(m, signature, [makeKey().trusted])).toMatchObject({ ok: false, reason: /unknown key/ });
  });

  it('key id is the first 16 hex digits of sha256 over the raw public key', () => {
    const trusted = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));
    const raw = Buffer.from(
      createPublicKey(readFileSync(join(ROOT, 'models/keys/dev.pub.pem'))).export({ format: 'jwk' }).x ?? '',
      'base64url',
    );
    expect(raw.length).toBe(32);
    expect(trusted.keyId).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    expect(keyIdOf(trusted.key)).toBe(trusted.keyId);
  });

  it('refuses manifests of another schema version, with the reason', () => {
    const m = readManifest(join(FIXTURES, 'scale', '1.0.0'));
    expect(parseManifest({ ...m, schemaVersion: 2 })).toEqual({
      ok: false,
      reason: 'schemaVersion 2; this device reads 1',
    });
    expect(parseManifest({ ...m, extra: 1 })).toMatchObject({ ok: false, reason: /extra/ });
    expect(parseManifest(m)).toMatchObject({ ok: true });
  });
});

describe('models config and execution providers', () => {
  it('defaults to the CPU, one thread each, the development key — and rejects unknown keys', () => {
    const c = modelsConfigSchema.parse(undefined);
    expect(c).toMatchObject({
      executionProviders: ['cpu'],
      intraOpThreads: 1,
      trustedKeys: ['models/keys/dev.pub.pem'],
    });
    expect(modelsConfigSchema.safeParse({ executionProvider: ['cpu'] }).success).toBe(false);
    expect(modelsConfigSchema.safeParse({ executionProviders: ['tpu'] }).success).toBe(false);
  });

  it('falls back to the CPU, logged, when CUDA is not installed', async () => {
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (_: object, msg: string) => void warnings.push(msg) };
    const bytes = readFileSync(join(FIXTURES, 'scale', '1.0.0', 'model.onnx'));
    const opened = await openSession(
      bytes,
      { executionProviders: ['cuda', 'cpu'], intraOpThreads: 1, interOpThreads: 1 },
      log,
    );
    try {
      // A machine with CUDA's libraries keeps ['cuda', 'cpu']; this one (no GPU) must have fallen back.
      if (opened.providers.includes('cuda')) return;
      expect(opened.providers).toEqual(['cpu']);
      expect(warnings.join('\n')).toMatch(/falling back to cpu|not in this onnxruntime build/);
    } finally {
      await opened.session.release();
    }
  });
});
