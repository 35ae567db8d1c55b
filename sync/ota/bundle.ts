import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OtaFileName, OtaManifestV1 } from '../messages.ts';
import { chunkCount } from '../transfer/ack.ts';

/** A model directory as the flasher sends it: its files, concatenated, and what the manifest will say. */
export interface ModelBundle {
  readonly model: { readonly name: string; readonly version: string };
  readonly files: { readonly name: OtaFileName; readonly size: number; readonly sha256: string }[];
  readonly data: Buffer;
  readonly sha256: string;
}

/** A model directory that cannot be sent (missing files, unreadable manifest): the flasher's bad input. */
export class BundleError extends Error {}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Reads manifest.json, model.onnx and golden.json (when the manifest names one) into one buffer. Models are a few
 * MB (the zoo keeps each under ~3 MB), so the bundle is held in memory. Nothing is verified here: the device
 * decides, against its own trusted keys.
 */
export function readModelBundle(dir: string): ModelBundle {
  const read = (file: string): Buffer => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new BundleError(`${path} is missing`);
    return readFileSync(path);
  };
  const manifestBytes = read('manifest.json');
  let manifest: { name?: unknown; version?: unknown; golden?: unknown };
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as typeof manifest;
  } catch (error) {
    throw new BundleError(`${join(dir, 'manifest.json')} is not JSON: ${(error as Error).message}`);
  }
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') {
    throw new BundleError(`${join(dir, 'manifest.json')} has no name and version`);
  }
  const parts: [OtaFileName, Buffer][] = [
    ['manifest.json', manifestBytes],
    ['model.onnx', read('model.onnx')],
  ];
  if (manifest.golden !== null && manifest.golden !== undefined) parts.push(['golden.json', read('golden.json')]);
  const data = Buffer.concat(parts.map(([, bytes]) => bytes));
  return {
    model: { name: manifest.name, version: manifest.version },
    files: parts.map(([name, bytes]) => ({ name, size: bytes.length, sha256: sha256(bytes) })),
    data,
    sha256: sha256(data),
  };
}

/**
 * The transfer id of a bundle cut in `chunkBytes` chunks: the same bundle flashed again (after the flasher itself
 * was stopped) finds the chunks the device already holds.
 */
export function otaIdOf(bundleSha256: string, chunkBytes: number): string {
  return createHash('sha256').update(`${bundleSha256}/${chunkBytes}`).digest('hex').slice(0, 32);
}

export function otaManifestOf(bundle: ModelBundle, chunkBytes: number): OtaManifestV1 {
  const size = bundle.data.length;
  return {
    ...{ v: 1, otaId: otaIdOf(bundle.sha256, chunkBytes), model: bundle.model, files: bundle.files },
    ...{ size, sha256: bundle.sha256, chunkBytes, chunks: chunkCount(size, chunkBytes) },
  };
}

/**
 * The device's side: cuts a complete, checksummed part file back into the model's files in `outDir` (a staging
 * directory, never the live models directory), checking each file's sha256 against the OTA manifest. Returns
 * why not, if a file does not match.
 */
export function splitBundle(partPath: string, manifest: OtaManifestV1, outDir: string): string | undefined {
  mkdirSync(outDir, { recursive: true });
  const fd = openSync(partPath, 'r');
  try {
    let offset = 0;
    for (const file of manifest.files) {
      const bytes = Buffer.alloc(file.size);
      if (readSync(fd, bytes, 0, file.size, offset) !== file.size) return `${file.name} is cut short`;
      if (sha256(bytes) !== file.sha256) return `${file.name} does not match its sha256 in the OTA manifest`;
      writeFileSync(join(outDir, file.name), bytes);
      offset += file.size;
    }
  } finally {
    closeSync(fd);
  }
  return undefined;
}
