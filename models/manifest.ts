import { z } from 'zod';

/**
 * manifest.json, as `glance export` writes it (tools/train/glance_train/manifest.py) and `glance sign` signs it.
 * The device reads only manifests of its own schema version: a newer layout is refused, not guessed at.
 */
export const MANIFEST_SCHEMA_VERSION = 1;

const dim = z.union([z.number().int().min(0), z.string().min(1)]);

export const tensorSpecSchema = z.looseObject({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'float16', 'int64', 'int32', 'uint8', 'int8', 'bool']),
  shape: z.array(dim),
  layout: z.string().optional(),
  normalisation: z.record(z.string(), z.unknown()).optional(),
  meaning: z.string().optional(),
});

export const signatureSchema = z.strictObject({
  alg: z.literal('ed25519'),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, '16 hex digits'),
  value: z.string().min(1).describe('base64 signature over the canonical manifest without this field'),
});

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 in hex');

/** Names and versions are directory names on the device: no separators, no leading dot. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MODEL_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

export const manifestSchema = z.strictObject({
  schemaVersion: z.number().int(),
  name: z.string().regex(MODEL_NAME, 'lower-case letters, digits, _ and -'),
  version: z.string().regex(MODEL_VERSION, 'a version such as 1.2.0'),
  task: z.string().min(1),
  description: z.string().default(''),
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
  labels: z.record(z.string(), z.unknown()).default({}),
  metrics: z.record(z.string(), z.unknown()),
  dataset: z.looseObject({ name: z.string(), fingerprint: z.string(), synthetic: z.boolean() }),
  file: z.literal('model.onnx'),
  sha256,
  bytes: z.number().int().min(1),
  opset: z.number().int(),
  golden: z
    .strictObject({ file: z.literal('golden.json'), sha256 })
    .nullable()
    .default(null),
  provenance: z.record(z.string(), z.unknown()),
  signature: signatureSchema.optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TensorSpec = z.infer<typeof tensorSpecSchema>;
export type Signature = z.infer<typeof signatureSchema>;

/** Parses a manifest, or explains in one line what is wrong with it. */
export function parseManifest(raw: unknown): { ok: true; manifest: Manifest } | { ok: false; reason: string } {
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== MANIFEST_SCHEMA_VERSION) {
    return { ok: false, reason: `schemaVersion ${String(version)}; this device reads ${MANIFEST_SCHEMA_VERSION}` };
  }
  const result = manifestSchema.safeParse(raw);
  if (result.success) return { ok: true, manifest: result.data };
  const issues = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  return { ok: false, reason: issues.join('; ') };
}

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace. Signer and verifier both serialise the parsed
 * manifest this way, so re-indenting or reordering a manifest keeps its signature valid while any change to a
 * value (a sha256, a shape, a metric) breaks it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonical JSON has no NaN/Infinity');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The bytes a signature covers: the manifest as written, minus its `signature`. */
export function signedBytes(raw: Record<string, unknown>): Buffer {
  const { signature: _signature, ...rest } = raw;
  return Buffer.from(canonicalJson(rest), 'utf8');
}
