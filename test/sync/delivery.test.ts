import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncConfigSchema } from '../../sync/config.ts';
import { type SyncHandle, startSync } from '../../sync/index.ts';
import type { BrokerKind } from './helpers/brokers.ts';
import { DeviceProcess } from './helpers/device-process.ts';
import { recordingEffects, seedDevice, tmp, waitFor } from './helpers/fixtures.ts';
import { deviceTables, expectExactlyOnceInOrder, expectSnippetsIntact } from './helpers/phone-store.ts';
import { DEVICE_ID, quiet, useBrokerSuite } from './helpers/suite.ts';

/** Contract suite, run against the embedded broker and against mosquitto: records and snippets reach the phone. */
describe.each(['embedded', 'mosquitto'] as BrokerKind[])('delivery through %s', (kind) => {
  const { broker, cleanup, receiverFor, config } = useBrokerSuite(kind);

  it('delivers 300 records and 3 snippets exactly once with matching sha256', async () => {
    const dir = tmp();
    const { db, files } = seedDevice(dir, 300, [150_000, 250_000, 350_000]);
    const synced: string[] = [];
    const sync: SyncHandle = await startSync({
      db,
      config: syncConfigSchema.parse(config({ outbox: { maxPerSecond: 50_000 }, chunkBytes: 32 * 1024 })),
      deviceId: DEVICE_ID,
      logger: quiet,
      status: () => ({ capture: 'running', models: { pupil: '1.0.0' } }),
      effects: recordingEffects().effects,
      onTransferSynced: (t) => synced.push(t.recordId),
    });
    cleanup(async () => {
      await sync.stop();
      db.close();
    });
    const receiver = receiverFor(join(dir, 'phone'));
    await waitFor('all records and snippets', () => {
      const s = sync.stats();
      return s.outbox.pending === 0 && s.outbox.awaitingReceipt === 0 && s.transfers.synced === 3;
    });
    expectExactlyOnceInOrder(join(dir, 'phone'), 300);
    await expectSnippetsIntact(join(dir, 'phone'), files);
    expect(db.prepare('SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL').pluck().get()).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM transfers WHERE state = 'synced'").pluck().get()).toBe(3);
    expect(synced.sort()).toEqual(['clip-0', 'clip-1', 'clip-2']);
    const stats = receiver.stats();
    expect(stats.protocolVersion).toBe(kind === 'mosquitto' ? 5 : 4);
    // The record id rides as an MQTT 5 user property too where the broker speaks 5.
    expect(stats.withUserProperty).toBe(kind === 'mosquitto' ? 300 : 0);
    const status = JSON.parse(readFileSync(join(dir, 'phone', 'status.json'), 'utf8'));
    expect(status).toMatchObject({ v: 1, online: true, device: { capture: 'running', models: { pupil: '1.0.0' } } });
  });

  it('resumes delivery after the broker restarts mid-drain, losing nothing', async () => {
    const dir = tmp();
    const { db } = seedDevice(dir, 300, []);
    const dbFile = join(dir, 'device.db');
    const config300 = config({ outbox: { maxPerSecond: 400 } });
    const receiver = receiverFor(join(dir, 'phone'));
    const partWay = () => waitFor('part of the backlog', () => receiver.stats().events >= 60);
    const mosquitto = broker().mosquitto;
    if (mosquitto) {
      const sync = await startSync({
        ...{ db, config: syncConfigSchema.parse(config300), deviceId: DEVICE_ID, logger: quiet },
        ...{ status: () => ({ capture: 'running' as const, models: {} }), effects: recordingEffects().effects },
      });
      try {
        await partWay();
        expect(receiver.stats().events).toBeLessThan(300);
        await mosquitto.restart(); // SIGKILL, persistence off: the broker forgets what it had acknowledged
        await waitFor('the rest of the backlog', () => receiver.stats().events === 300, 30_000);
      } finally {
        await sync.stop();
        db.close();
      }
    } else {
      // The embedded broker lives in the daemon, so it restarts when the daemon does: kill that process.
      db.close();
      const args = { dbFile, deviceId: DEVICE_ID, config: config300 };
      let device = await DeviceProcess.start(args);
      cleanup(() => device.stop());
      await partWay();
      expect(receiver.stats().events).toBeLessThan(300);
      await device.kill();
      device = await DeviceProcess.start(args);
      await waitFor('the rest of the backlog', () => receiver.stats().events === 300, 30_000);
      await device.stop();
    }
    expectExactlyOnceInOrder(join(dir, 'phone'), 300);
    expect(deviceTables(dbFile).unsent).toBe(0);
  });
});
