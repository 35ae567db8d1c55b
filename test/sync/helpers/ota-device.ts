import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { otaInstaller } from '../../../device/command-effects.ts';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readPrivateKey, readTrustedKey, signManifest } from '../../../models/signing.ts';
import { type Db, openDatabase } from '../../../storage/db.ts';
import { ModelRepository } from '../../../storage/models.ts';
import { syncConfigSchema } from '../../../sync/config.ts';
import { type SyncHandle, startSync } from '../../../sync/index.ts';
import { recordingEffects } from './fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
export const ZOO_PUPIL = join(ROOT, 'models/zoo/pupil/1.0.0');
const DEV_KEY = join(ROOT, 'tools/keys/dev.key.pem');
const DEV_PUB = join(ROOT, 'models/keys/dev.pub.pem');

/**
 * A copy of the zoo's pupil model as another version, signed again with the development key (which the device
 * trusts), or left with the old signature (`tampered`): its manifest then no longer matches what was signed.
 */
export function pupilVersion(dir: string, version: string, options: { tampered?: boolean } = {}): string {
  const out = join(dir, `pupil-${version}`);
  cpSync(ZOO_PUPIL, out, { recursive: true });
  const path = join(out, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  manifest.version = version;
  if (!options.tampered) manifest.signature = signManifest(manifest, readPrivateKey(DEV_KEY));
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return out;
}

export interface OtaDevice {
  readonly db: Db;
  readonly registry: ModelRegistry;
  readonly sync: SyncHandle;
  readonly otaDir: string;
  readonly modelsDir: string;
  stop(): Promise<void>;
}

/**
 * The device's side in this process: a database, a model registry serving pupil@1.0.0 from its own models
 * directory (a copy of the zoo's), and the phone sync with OTA staging under `dir/ota`. Started again on the same
 * `dir`, it is the same device after a restart.
 */
export async function startOtaDevice(
  dir: string,
  brokerConfig: Record<string, unknown>,
  logger: Logger,
  deviceId = 'dev1',
): Promise<OtaDevice> {
  const modelsDir = join(dir, 'models');
  cpSync(ZOO_PUPIL, join(modelsDir, 'pupil/1.0.0'), { recursive: true, force: false, errorOnExist: false });
  const db = openDatabase(join(dir, 'device.db'));
  const config = { ...defaultModelsConfig(), dir: modelsDir, trustedKeys: [DEV_PUB] };
  const registry = new ModelRegistry({
    config,
    trustedKeys: [readTrustedKey(DEV_PUB)],
    store: new ModelRepository(db),
  });
  await registry.start(['pupil']);
  const otaDir = join(dir, 'ota');
  const sync = await startSync({
    db,
    config: syncConfigSchema.parse({ broker: brokerConfig, reconnectMs: 100, companion: { enabled: false } }),
    deviceId,
    logger,
    status: () => ({ capture: 'running', models: {} }),
    effects: recordingEffects().effects,
    ota: { dir: otaDir, install: otaInstaller(async () => registry) },
  });
  return {
    ...{ db, registry, sync, otaDir, modelsDir },
    async stop() {
      await sync.stop();
      await registry.close();
      db.close();
    },
  };
}

/** A pupil inference on a blank eye: proves the serving model answers, and says which version did. */
export async function pupilAnswers(registry: ModelRegistry): Promise<string> {
  const ort = await import('onnxruntime-node');
  const eye = new ort.Tensor('float32', new Float32Array(64 * 64).fill(0.5), [1, 1, 64, 64]);
  return (await registry.run('pupil', { eye })).model;
}
