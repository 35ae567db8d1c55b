import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { REPO_ROOT } from '../../device/paths.ts';
import { defaultModelsConfig } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readPrivateKey, readTrustedKey, signManifest } from '../../models/signing.ts';
import { openDatabase } from '../../storage/db.ts';
import type { Metric } from '../../tools/bench/report.ts';
import { syncConfigSchema } from '../config.ts';
import { type OtaInstaller, type SyncHandle, startSync } from '../index.ts';
import type { ModelBundle } from '../ota/bundle.ts';
import { flashBundle, flashOverMqtt } from '../ota/flasher.ts';
import { LocalMosquitto } from './mosquitto.ts';
import { until } from './rig.ts';

const ROOT = REPO_ROOT;
const ZOO_PUPIL = join(ROOT, 'models/zoo/pupil/1.0.0');
const BUNDLE_BYTES = 32 * 2 ** 20;
const DEVICE_ID = 'bench';

/**
 * OTA through a local mosquitto, flasher and device in this process: MB/s of a 32 MiB bundle until the device has
 * confirmed its sha256 (the transfer alone: the bundle's model.onnx is random bytes and the installer refuses
 * everything), and seconds from a broker restart mid-flash of the zoo's pupil model (signed
 * again as 1.0.1 with the development key) to the flasher sending chunks again from the device's last ack.
 */
export async function benchOta(): Promise<Metric[]> {
  const mosquitto = await LocalMosquitto.start({ extra: ['max_queued_messages 100000', 'max_inflight_messages 1000'] });
  const dir = mkdtempSync(join(tmpdir(), 'glance-bench-ota-'));
  const logger = pino({ level: 'warn' }, pino.destination(2));
  try {
    return [await throughput(mosquitto, dir, logger), await resume(mosquitto, dir, logger)];
  } finally {
    await mosquitto.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function device(mosquitto: LocalMosquitto, dir: string, logger: pino.Logger, install: OtaInstaller) {
  const db = openDatabase(join(dir, 'device.db'));
  const sync: SyncHandle = await startSync({
    db,
    config: syncConfigSchema.parse({
      broker: { type: 'external', url: mosquitto.url },
      ...{ reconnectMs: 100, companion: { enabled: false }, ota: { maxBytes: 2 * BUNDLE_BYTES } },
    }),
    ...{ deviceId: DEVICE_ID, logger, status: () => ({ capture: 'running' as const, models: {} }) },
    effects: {} as never, // the benchmark sends no commands
    ota: { dir: join(dir, 'ota'), install },
  });
  await until(() => sync.stats().connected, 10_000, 'the device to connect', 10);
  await new Promise((r) => setTimeout(r, 100)); // its subscriptions are in place
  return {
    sync,
    stop: async () => {
      await sync.stop();
      db.close();
    },
  };
}

async function throughput(mosquitto: LocalMosquitto, root: string, logger: pino.Logger): Promise<Metric> {
  const dir = join(root, 'throughput');
  const refuse: OtaInstaller = async () => ({ ok: false, stage: 'bench', reason: 'transfer only' });
  const d = await device(mosquitto, dir, logger, refuse);
  try {
    const manifest = readFileSync(join(ZOO_PUPIL, 'manifest.json'));
    const model = randomBytes(BUNDLE_BYTES - manifest.length);
    const data = Buffer.concat([manifest, model]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const bundle: ModelBundle = {
      model: { name: 'pupil', version: '1.0.0' }, // as its manifest.json says
      files: [
        { name: 'manifest.json', size: manifest.length, sha256: sha(manifest) },
        { name: 'model.onnx', size: model.length, sha256: sha(model) },
      ],
      data,
      sha256: sha(data),
    };
    const cpu = process.cpuUsage();
    const report = await flashBundle(bundle, { url: mosquitto.url, deviceId: DEVICE_ID, logger });
    const used = process.cpuUsage(cpu);
    const mb = BUNDLE_BYTES / 2 ** 20;
    const seconds = report.stats.seconds;
    return {
      name: 'sync.ota_mb_per_s',
      value: mb / seconds,
      unit: 'MB/s',
      better: 'higher',
      note:
        `a ${mb} MiB bundle in 64 KiB checksummed chunks, flasher and device in one process, until the device ` +
        `confirmed its sha256 and answered (refused by design: the benchmark's installer takes nothing); ${report.stats.chunksResent} chunks resent; ` +
        `CPU of both ${((used.user + used.system) / 1000 / mb).toFixed(1)} ms/MB`,
    };
  } finally {
    await d.stop();
  }
}

async function resume(mosquitto: LocalMosquitto, root: string, logger: pino.Logger): Promise<Metric> {
  const dir = join(root, 'resume');
  const modelsDir = join(dir, 'models');
  cpSync(ZOO_PUPIL, join(modelsDir, 'pupil/1.0.0'), { recursive: true });
  const pub = join(ROOT, 'models/keys/dev.pub.pem');
  const registry = new ModelRegistry({
    config: { ...defaultModelsConfig(), dir: modelsDir, trustedKeys: [pub] },
    trustedKeys: [readTrustedKey(pub)],
  });
  await registry.start(['pupil']);
  // The daemon's installer lives in device/ (which nothing else imports): the same two registry calls here.
  const install: OtaInstaller = async (staged) => {
    const [name = '', version = ''] = (await registry.install(staged)).model.split('@');
    const outcome = await registry.activate(name, version);
    return outcome.ok
      ? { ok: true, model: outcome.model }
      : { ok: false, stage: outcome.stage, reason: outcome.reason };
  };
  const d = await device(mosquitto, dir, logger, install);
  const model = join(dir, 'pupil-1.0.1');
  cpSync(ZOO_PUPIL, model, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  manifest.version = '1.0.1';
  manifest.signature = signManifest(manifest, readPrivateKey(join(ROOT, 'tools/keys/dev.key.pem')));
  writeFileSync(join(model, 'manifest.json'), JSON.stringify(manifest));
  try {
    let sent = 0;
    let restartedAt = 0;
    let resumedAt = 0;
    const flashing = flashOverMqtt(model, {
      ...{ url: mosquitto.url, deviceId: DEVICE_ID, logger, reconnectMs: 100 },
      ...{ chunkBytes: 16 * 1024, window: 4, maxBytesPerSecond: 200_000 },
      onChunk: () => {
        sent++;
        if (restartedAt > 0 && resumedAt === 0) resumedAt = performance.now();
      },
    });
    await until(() => sent >= 12, 30_000, 'a part of the model sent', 5);
    await mosquitto.kill();
    await new Promise((r) => setTimeout(r, 300));
    await mosquitto.restart();
    restartedAt = performance.now();
    const report = await flashing;
    if (!report.result.ok) throw new Error(`bench: the model was refused: ${report.result.reason}`);
    return {
      name: 'sync.ota_resume_s',
      value: (resumedAt - restartedAt) / 1000,
      unit: 's',
      better: 'lower',
      target: 2,
      note:
        `mosquitto SIGKILLed mid-flash of pupil@1.0.1 (0.6 MB, 16 KiB chunks), restarted with persistence off: from ` +
        `accepting connections to the next chunk sent from the device's last ack; then installed in ` +
        `${report.stats.seconds.toFixed(1)} s in all, ${report.stats.chunksResent} chunks resent`,
    };
  } finally {
    await d.stop();
    await registry.close();
  }
}
