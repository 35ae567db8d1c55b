import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BrokerKind } from './helpers/brokers.ts';
import { DeviceProcess } from './helpers/device-process.ts';
import { seedDevice, tmp, waitFor } from './helpers/fixtures.ts';
import { deviceTables, expectSnippetsIntact } from './helpers/phone-store.ts';
import { DEVICE_ID, useBrokerSuite } from './helpers/suite.ts';

/** Contract suite, run against the embedded broker and against mosquitto: a killed device resumes its transfer. */
describe.each(['embedded', 'mosquitto'] as BrokerKind[])('snippet resume through %s', (kind) => {
  const { cleanup, receiverFor, config } = useBrokerSuite(kind);

  it('resumes a snippet from the last acknowledged chunk after the device is killed', async () => {
    const dir = tmp();
    const { db, files } = seedDevice(dir, 0, [160_000]);
    const dbFile = join(dir, 'device.db');
    db.close();
    const file = files[0] as (typeof files)[number];
    const args = {
      dbFile,
      deviceId: DEVICE_ID,
      config: config({ chunkBytes: 4096, transfer: { maxBytesPerSecond: 100_000, window: 4 } }),
    };
    let device = await DeviceProcess.start(args);
    cleanup(() => device.stop());
    // The phone subscribes before it announces itself, and nothing is sent before that: it sees every chunk.
    const chunks: number[] = [];
    const receiver = receiverFor(join(dir, 'phone'), (_id, index) => chunks.push(index));
    await waitFor('a part of the file acknowledged', () => (deviceTables(dbFile).transfers[0]?.acked ?? 0) >= 8);
    await device.kill();
    const acked = deviceTables(dbFile).transfers[0]?.acked ?? 0;
    const chunkCount = Math.ceil(file.size / 4096);
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThan(chunkCount);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let chunks already in flight land
    const seenBeforeRestart = chunks.length;
    device = await DeviceProcess.start(args);
    await waitFor('the file synced', () => deviceTables(dbFile).transfers[0]?.state === 'synced', 30_000);
    // The restarted device began at the last acknowledged chunk, not at chunk 0: the one stored at the kill, or a
    // later one if the phone's ack for chunks already received reached the new process first.
    const afterRestart = chunks.slice(seenBeforeRestart);
    expect(afterRestart[0]).toBeGreaterThan(0);
    expect(Math.min(...afterRestart)).toBeGreaterThanOrEqual(acked);
    expect(afterRestart.length).toBeLessThan(chunkCount);
    await waitFor('the phone to store it', () => receiver.stats().snippets.completed === 1);
    await expectSnippetsIntact(join(dir, 'phone'), [file]);
  });
});
