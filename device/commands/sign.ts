import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { parseManifest } from '../../models/manifest.ts';
import { generateSigningKey, readPrivateKey, signManifest } from '../../models/signing.ts';
import { BadInputError, messageOf } from '../errors.ts';

/**
 * Signs a manifest in place: checks that it is a manifest this device generation reads and that its sha256 is
 * the model.onnx beside it (signing a manifest that does not describe its model would only move the failure to
 * the device), then writes `signature: {alg, keyId, value}`. Returns the key id.
 */
export function signManifestFile(manifestPath: string, keyFile: string): { keyId: string; model: string } {
  const file =
    existsSync(manifestPath) && statSync(manifestPath).isDirectory()
      ? join(manifestPath, 'manifest.json')
      : manifestPath;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new BadInputError(`cannot read manifest ${file}: ${messageOf(error)}`);
  }
  const parsed = parseManifest(raw);
  if (!parsed.ok) throw new BadInputError(`${file} is not a valid manifest: ${parsed.reason}`);
  const onnx = join(dirname(file), parsed.manifest.file);
  if (!existsSync(onnx)) throw new BadInputError(`${onnx} is missing: a manifest is signed beside its model`);
  const actual = createHash('sha256').update(readFileSync(onnx)).digest('hex');
  if (actual !== parsed.manifest.sha256) {
    throw new BadInputError(`${file}: sha256 does not match ${onnx}; re-export the model instead of signing this`);
  }
  let key: ReturnType<typeof readPrivateKey>;
  try {
    key = readPrivateKey(keyFile);
  } catch (error) {
    throw new BadInputError(`--key ${keyFile}: ${messageOf(error)}`);
  }
  const signature = signManifest(raw, key);
  writeFileSync(file, `${JSON.stringify({ ...raw, signature }, null, 2)}\n`);
  return { keyId: signature.keyId, model: `${parsed.manifest.name}@${parsed.manifest.version}` };
}

/** `glance sign --key KEY.pem MANIFEST|MODEL_DIR`. */
export function registerSignCommand(program: Command): void {
  program
    .command('sign')
    .description('sign a model manifest with an ed25519 private key (writes its signature into the manifest)')
    .requiredOption('--key <file>', 'ed25519 private key, PEM (glance keygen makes one)')
    .argument('<manifest>', 'manifest.json, or the model directory that holds it')
    .action((manifest: string, opts: { key: string }) => {
      const { keyId, model } = signManifestFile(manifest, opts.key);
      process.stdout.write(`signed ${model} with key ${keyId}\n`);
    });
}

/** `glance keygen --out PREFIX`: PREFIX.key.pem (private, mode 600) and PREFIX.pub.pem. */
export function registerKeygenCommand(program: Command): void {
  program
    .command('keygen')
    .description('make an ed25519 signing key pair for models')
    .requiredOption('--out <prefix>', 'writes <prefix>.key.pem and <prefix>.pub.pem')
    .option('--force', 'overwrite existing files')
    .action((opts: { out: string; force?: boolean }) => {
      const priv = `${opts.out}.key.pem`;
      const pub = `${opts.out}.pub.pem`;
      for (const f of [priv, pub]) {
        if (existsSync(f) && !opts.force) throw new BadInputError(`${f} exists (use --force to overwrite)`);
      }
      const pair = generateSigningKey();
      writeFileSync(priv, pair.privatePem, { mode: 0o600 });
      writeFileSync(pub, pair.publicPem);
      process.stdout.write(
        `key id ${pair.keyId}\nprivate: ${priv} (keep it secret)\npublic:  ${pub} (list it in models.trustedKeys)\n`,
      );
    });
}
