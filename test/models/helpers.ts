import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultModelsConfig, type ModelsConfig } from '../../models/config.ts';
import { ModelRegistry, type RegistryOptions } from '../../models/registry.ts';
import { keyIdOf, signManifest, type TrustedKey } from '../../models/signing.ts';

export const FIXTURES = resolve(import.meta.dirname, 'fixtures');

export interface TestKey {
  readonly privateKey: KeyObject;
  readonly trusted: TrustedKey;
}

export function makeKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, trusted: { keyId: keyIdOf(publicKey), key: publicKey, source: 'test' } };
}

export function tmpModels(): string {
  return mkdtempSync(join(tmpdir(), 'glance-models-'));
}

type Manifest = Record<string, unknown> & { golden?: { sha256: string } | null };

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Brings the manifest's hashes up to date with the files beside it (as a re-export would) and signs it. */
export function rehashAndSign(dir: string, key: KeyObject, edit: (m: Manifest) => void = () => {}): void {
  const m = readManifest(dir);
  m.sha256 = sha256(join(dir, 'model.onnx'));
  m.bytes = readFileSync(join(dir, 'model.onnx')).length;
  if (m.golden) m.golden.sha256 = sha256(join(dir, 'golden.json'));
  edit(m);
  m.signature = signManifest(m, key);
  writeManifest(dir, m);
}

/** A fixture copied to `<root>/<name>/<version>` (or another version directory) and signed with `key`. */
export function installFixture(root: string, name: string, version: string, key: KeyObject, as = version): string {
  const dir = join(root, name, as);
  cpSync(join(FIXTURES, name, version), dir, { recursive: true });
  rehashAndSign(dir, key);
  return dir;
}

export function registry(
  root: string,
  trusted: TrustedKey[],
  extra: Partial<RegistryOptions> = {},
  config: Partial<ModelsConfig> = {},
): ModelRegistry {
  return new ModelRegistry({
    config: { ...defaultModelsConfig(), warmupRuns: 1, ...config, dir: root },
    trustedKeys: trusted,
    ...extra,
  });
}

export function xs(batch = 1, value = 1): Record<string, ort.Tensor> {
  return { x: new ort.Tensor('float32', new Float32Array(batch * 4).fill(value), [batch, 4]) };
}

export function firstY(outputs: ort.InferenceSession.ReturnType): number {
  const y = outputs.y?.data as Float32Array | undefined;
  return y?.[0] ?? Number.NaN;
}

export function devKey(): KeyObject {
  return createPrivateKey(readFileSync(resolve(import.meta.dirname, '../../tools/keys/dev.key.pem')));
}
