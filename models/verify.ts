import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelRejectedError, messageOf } from './errors.ts';
import { type Golden, parseGolden } from './golden.ts';
import { type Manifest, parseManifest } from './manifest.ts';
import { checkSignature, type TrustedKey } from './signing.ts';

/** A model directory whose manifest is authentic and whose files are the ones it was signed with. */
export interface VerifiedModel {
  readonly dir: string;
  readonly manifest: Manifest;
  /** The verified bytes: the session is created from these, never by re-reading the file afterwards. */
  readonly bytes: Uint8Array;
  readonly golden: Golden | undefined;
  readonly keyId: string;
  readonly id: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function read(dir: string, file: string, label: string): Buffer {
  try {
    return readFileSync(join(dir, file));
  } catch (error) {
    throw new ModelRejectedError(
      file === 'manifest.json' ? 'manifest' : 'sha256',
      label,
      `cannot read ${file}: ${messageOf(error)}`,
    );
  }
}

/**
 * Step one of every load and install: parse the manifest, check its signature against the trusted keys, then
 * the sha256 of model.onnx (and of golden.json) against the signed manifest. Throws ModelRejectedError.
 */
export function verifyModelDir(dir: string, trusted: readonly TrustedKey[]): VerifiedModel {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(read(dir, 'manifest.json', dir).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ModelRejectedError) throw error;
    throw new ModelRejectedError('manifest', dir, `manifest.json is not JSON: ${messageOf(error)}`);
  }
  const parsed = parseManifest(raw);
  if (!parsed.ok) throw new ModelRejectedError('manifest', dir, `manifest.json: ${parsed.reason}`);
  const manifest = parsed.manifest;
  const id = `${manifest.name}@${manifest.version}`;

  const sig = checkSignature(raw, manifest.signature, trusted);
  if (!sig.ok) throw new ModelRejectedError('signature', id, sig.reason);

  const bytes = read(dir, manifest.file, id);
  const actual = sha256(bytes);
  if (actual !== manifest.sha256) {
    throw new ModelRejectedError(
      'sha256',
      id,
      `model.onnx has sha256 ${actual.slice(0, 16)}…, the signed manifest says ${manifest.sha256.slice(0, 16)}…`,
    );
  }
  let golden: Golden | undefined;
  if (manifest.golden) {
    const text = read(dir, manifest.golden.file, id);
    if (sha256(text) !== manifest.golden.sha256) {
      throw new ModelRejectedError('golden', id, 'golden.json does not match the sha256 in the signed manifest');
    }
    try {
      golden = parseGolden(text.toString('utf8'));
    } catch (error) {
      throw new ModelRejectedError('golden', id, `golden.json: ${messageOf(error)}`);
    }
  }
  return { dir, manifest, bytes, golden, keyId: sig.keyId, id };
}
