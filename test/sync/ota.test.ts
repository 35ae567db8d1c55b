import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { otaManifestOf, readModelBundle } from '../../sync/ota/bundle.ts';
import { flashBundle, flashOverMqtt } from '../../sync/ota/flasher.ts';
import { Topics } from '../../sync/topics.ts';
import { encodeChunk } from '../../sync/transfer/framing.ts';
import { glanceAsync } from '../helpers/cli.ts';
import { type BrokerKind, closeClient, FLASHER, grantedQos, mqttClient, PHONE } from './helpers/brokers.ts';
import { tmp, waitFor } from './helpers/fixtures.ts';
import { type OtaDevice, pupilAnswers, pupilVersion, startOtaDevice } from './helpers/ota-device.ts';
import { useBrokerSuite } from './helpers/suite.ts';
import { TcpProxy } from './helpers/tcp-proxy.ts';

const DEVICE_ID = 'dev1';
const CHUNK = 16 * 1024;
const quiet = pino({ level: process.env.GLANCE_LOG_LEVEL ?? 'silent' });
const topics = new Topics('glance', DEVICE_ID);

/** Chunks [0, n) the device holds durably for an OTA, read from its database (what its acks claim). */
function heldPrefix(device: OtaDevice): number {
  const row = device.db.prepare("SELECT received FROM ota_transfers WHERE state = 'receiving'").get() as
    | { received: Buffer }
    | undefined;
  if (row === undefined) return 0;
  const i = row.received.indexOf(0);
  return i === -1 ? row.received.length : i;
}

/** Contract suite for models over the air, against the embedded broker and against mosquitto. */
describe.each(['embedded', 'mosquitto'] as BrokerKind[])('OTA models through %s', (kind) => {
  const { broker, cleanup } = useBrokerSuite(kind);
  const flashOptions = (url: string) => ({ url, deviceId: DEVICE_ID, ...FLASHER, logger: quiet, reconnectMs: 100 });

  const device = async (dir: string) => {
    const d = await startOtaDevice(dir, broker().brokerConfig, quiet, DEVICE_ID);
    cleanup(() => d.stop());
    // The device subscribes once connected; a manifest before that would go nowhere.
    await waitFor('the device to connect', () => d.sync.stats().connected);
    await new Promise((r) => setTimeout(r, 100));
    return d;
  };

  it('resumes after a network cut mid-chunk from the last acknowledged chunk, and installs the model', async () => {
    const dir = tmp();
    const d = await device(dir);
    const proxy = await TcpProxy.start(broker().port);
    cleanup(() => proxy.close());
    const model = pupilVersion(dir, '1.0.1');
    const chunks = otaManifestOf(readModelBundle(model), CHUNK).chunks;
    const sent: number[] = [];
    let sentAtCut = 0;
    let heldAtCut = 0;
    // Well into the transfer, and (16 KiB chunks plus headers) almost surely inside a chunk's bytes.
    proxy.cutAfter(300_000, () => {
      sentAtCut = sent.length;
      heldAtCut = heldPrefix(d);
      setTimeout(() => proxy.restore(), 400);
    });
    const report = await flashOverMqtt(model, {
      ...flashOptions(proxy.url),
      ...{ chunkBytes: CHUNK, window: 8, maxBytesPerSecond: 1_000_000 },
      onChunk: (i) => sent.push(i),
    });
    expect(proxy.cuts).toBe(1);
    expect(report.result).toMatchObject({ ok: true, model: 'pupil@1.0.1', previous: 'pupil@1.0.0' });
    expect(report.stats.connects).toBeGreaterThanOrEqual(2);
    // Resumed from what the device held, not from chunk 0, and far from sending everything twice.
    const afterCut = sent.slice(sentAtCut);
    expect(heldAtCut).toBeGreaterThan(0);
    expect(Math.min(...afterCut)).toBeGreaterThanOrEqual(heldAtCut);
    expect(sent.length).toBeLessThan(chunks + 8 + 4);
    expect(d.registry.servingModel('pupil')?.id).toBe('pupil@1.0.1');
    expect(await pupilAnswers(d.registry)).toBe('pupil@1.0.1');
    expect(existsSync(join(d.modelsDir, 'pupil/1.0.1/model.onnx'))).toBe(true);
    expect(readdirSync(d.otaDir)).toEqual([]); // the staging area is cleaned up
  });

  it('refuses a tampered chunk and asks for it again; the flasher then completes from there', async () => {
    const dir = tmp();
    const d = await device(dir);
    const bundle = readModelBundle(pupilVersion(dir, '1.0.1'));
    const manifest = otaManifestOf(bundle, CHUNK);
    const chunk = (i: number) => encodeChunk(i, bundle.data.subarray(i * CHUNK, (i + 1) * CHUNK));
    // A hand-driven flasher: chunks 0, 1, a damaged 2, and 3.
    const client = connect(broker().phoneUrl, { ...FLASHER, reconnectPeriod: 0 });
    cleanup(() => void client.end(true));
    const acks: { next: number; missing: number[] }[] = [];
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.on('message', (_t, payload) => acks.push(JSON.parse(payload.toString())));
    await client.subscribeAsync(topics.ota(manifest.otaId, 'ack'), { qos: 1 });
    await client.publishAsync(topics.ota(manifest.otaId, 'manifest'), JSON.stringify(manifest), { qos: 1 });
    const bad = chunk(2);
    bad.writeUInt8(bad.readUInt8(bad.length - 100) ^ 0xff, bad.length - 100); // after sealing: the hash no longer matches
    for (const [i, frame] of [chunk(0), chunk(1), bad, chunk(3)].entries()) {
      await client.publishAsync(topics.otaChunk(manifest.otaId, i), frame, { qos: 1 });
    }
    await waitFor('an ack naming chunk 2 as missing', () => acks.some((a) => a.missing.includes(2)));
    expect(acks.at(-1)?.next).toBe(2);
    expect(d.sync.stats().ota.refusedChunks).toBe(1);
    const sent: number[] = [];
    const report = await flashBundle(bundle, {
      ...flashOptions(broker().phoneUrl),
      chunkBytes: CHUNK,
      onChunk: (i) => sent.push(i),
    });
    expect(report.otaId).toBe(manifest.otaId);
    expect(report.result).toMatchObject({ ok: true, model: 'pupil@1.0.1' });
    expect(Math.min(...sent)).toBe(2); // it began where the device said: the refused chunk
    expect(sent).not.toContain(0);
    expect(sent).not.toContain(1);
  });

  it('refuses a tampered signed model with a clear reason, and the old model keeps serving', async () => {
    const dir = tmp();
    const d = await device(dir);
    const tampered = pupilVersion(dir, '1.0.2', { tampered: true });
    const report = await flashOverMqtt(tampered, { ...flashOptions(broker().phoneUrl), chunkBytes: CHUNK });
    expect(report.result).toMatchObject({ ok: false, stage: 'signature', serving: 'pupil@1.0.0' });
    expect(report.result.ok === false && report.result.reason).toMatch(/changed after signing/);
    expect(await pupilAnswers(d.registry)).toBe('pupil@1.0.0');
    expect(existsSync(join(d.modelsDir, 'pupil/1.0.2'))).toBe(false);
    expect(readdirSync(d.otaDir)).toEqual([]);
    // Asked again, the device answers from its record without taking the bundle again.
    const again = await flashOverMqtt(tampered, { ...flashOptions(broker().phoneUrl), chunkBytes: CHUNK });
    expect(again.result).toEqual(report.result);
    expect(again.stats.chunksSent).toBe(0);
  });
});

/** What needs the embedded broker: its flasher account, and a device restart (which restarts the broker too). */
describe('OTA models through the embedded broker', () => {
  const { broker, cleanup } = useBrokerSuite('embedded');
  const started = async (dir: string) => {
    const d = await startOtaDevice(dir, broker().brokerConfig, quiet, DEVICE_ID);
    await waitFor('the device to connect', () => d.sync.stats().connected);
    return d;
  };
  const client = async (credentials: { username: string; password: string }) => {
    const c = await mqttClient(broker().phoneUrl, credentials);
    cleanup(() => closeClient(c));
    return c;
  };

  it('resumes from the chunks staged on disk after the device (and its broker) restart mid-transfer', async () => {
    const dir = tmp();
    const first = await started(dir);
    let stopped = false;
    cleanup(() => (stopped ? undefined : first.stop()));
    const model = pupilVersion(dir, '1.0.1');
    const { otaId, chunks } = otaManifestOf(readModelBundle(model), CHUNK);
    const sent: number[] = [];
    const flashing = flashOverMqtt(model, {
      ...{ url: broker().phoneUrl, deviceId: DEVICE_ID, ...FLASHER, logger: quiet, reconnectMs: 100 },
      ...{ chunkBytes: CHUNK, window: 4, maxBytesPerSecond: 300_000 },
      onChunk: (i) => sent.push(i),
    });
    await waitFor('a part of the model staged', () => heldPrefix(first) >= 8);
    const held = heldPrefix(first);
    const sentBefore = sent.length;
    await first.stop();
    stopped = true;
    expect(existsSync(join(first.otaDir, `${otaId}.part`))).toBe(true);
    writeFileSync(join(first.otaDir, 'finished-long-ago.part'), 'left by a crash after its result was stored');
    const second = await started(dir);
    cleanup(() => second.stop());
    expect(existsSync(join(second.otaDir, 'finished-long-ago.part'))).toBe(false);
    expect(existsSync(join(second.otaDir, `${otaId}.part`))).toBe(true);
    const report = await flashing;
    expect(report.result).toMatchObject({ ok: true, model: 'pupil@1.0.1', previous: 'pupil@1.0.0' });
    const afterRestart = sent.slice(sentBefore);
    expect(Math.min(...afterRestart)).toBeGreaterThanOrEqual(held);
    expect(afterRestart.length).toBeLessThan(chunks - held + 4 + 4);
    expect(await pupilAnswers(second.registry)).toBe('pupil@1.0.1');
  });

  it('lets a flasher write the OTA topics and nothing else, and keeps phones off them', async () => {
    const d = await started(tmp());
    cleanup(() => d.stop());
    const flasher = await client(FLASHER);
    const root = `glance/${DEVICE_ID}`;
    expect(await grantedQos(flasher, [`${root}/models/ota/x/result`, `${root}/events/+`, `${root}/#`])).toEqual([
      1, 128, 128,
    ]);
    for (const [topic, who] of [
      [`${root}/cmd/pause`, FLASHER],
      [`${root}/models/ota/x/ack`, FLASHER],
      [`${root}/models/ota/x/manifest`, PHONE],
    ] as const) {
      const c = await client(who);
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.publish(topic, '{"v":1}', { qos: 1 });
      await closed;
    }
    // An invalid manifest from the flasher is answered with the reason, and nothing is staged.
    const results: unknown[] = [];
    flasher.on('message', (_t, payload) => results.push(JSON.parse(payload.toString())));
    await flasher.publishAsync(`${root}/models/ota/x/manifest`, '{"v":1,"otaId":"x"}', { qos: 1 });
    await waitFor('the refusal', () => results.length === 1);
    expect(results[0]).toMatchObject({
      ok: false,
      stage: 'transfer',
      reason: expect.stringMatching(/manifest invalid/),
    });
    expect(d.db.prepare('SELECT COUNT(*) FROM ota_transfers').pluck().get()).toBe(0);
  });

  it('glance flash --broker installs over the air, and names bad input with exit code 2', async () => {
    const dir = tmp();
    const d = await started(dir);
    cleanup(() => d.stop());
    const model = pupilVersion(dir, '1.0.1');
    const args = ['flash', model, '--broker', broker().phoneUrl, '--device-id', DEVICE_ID];
    const auth = ['--username', FLASHER.username, '--password', FLASHER.password, '--chunk-size', '32768'];
    // Both CLI processes at once: each start-up costs seconds on a shared machine.
    const [ok, missing] = await Promise.all([
      run([...args, ...auth]),
      run(['flash', join(dir, 'nowhere'), '--broker', broker().phoneUrl, '--device-id', DEVICE_ID]),
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^pupil@1\.0\.1 active on dev1 \(was pupil@1\.0\.0\); 19 chunks/);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nowhere\/manifest\.json is missing/);
  });
});

/** The CLI in a subprocess without blocking this process's event loop (the device runs in it). */
async function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = glanceAsync(args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { status, stdout, stderr };
}
