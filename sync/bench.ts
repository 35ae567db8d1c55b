import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Metric } from '../tools/bench/report.ts';
import { baselineFile, baselineRecords } from './bench/baseline.ts';
import { Rig, until } from './bench/rig.ts';

const RECORDS = 20_000;
const FILE_BYTES = 32 * 2 ** 20;

/**
 * `glance bench` group for sync, all through a local mosquitto with the reference receiver as the phone (its own
 * process): records/s through the outbox drain at QoS 1 (until every record is receipted by the phone), snippet
 * MB/s (until the phone confirmed the whole file's sha256), and seconds from a broker restart to the next record
 * delivered. The first two carry as baseline mosquitto_pub/mosquitto_sub moving the same messages, and note the
 * device's CPU time, which says more than the rate when the machine is shared.
 */
export async function benchSync(): Promise<Metric[]> {
  const { benchOta } = await import('./bench/ota.ts');
  return [await benchRecords(), await benchSnippet(), await benchResume(), ...(await benchOta())];
}

async function benchRecords(): Promise<Metric> {
  // The rate cap and window are raised so the benchmark measures what the drain can do, not its default pace.
  const rig = await Rig.start({ records: RECORDS, outbox: { maxPerSecond: 1_000_000, window: 1000, batch: 1000 } });
  try {
    const start = await rig.phoneOnline();
    const cpu = process.cpuUsage();
    // stats() counts pending rows; polled every 50 ms it costs the device next to nothing.
    await until(() => rig.sync.stats().outbox.receipted >= RECORDS, 120_000, 'records', 50);
    const s = (performance.now() - start) / 1000;
    const cpuUs = cpuMicros(cpu) / RECORDS;
    const value = RECORDS / s;
    const baseline = RECORDS / (await baselineRecords(rig.mosquitto, RECORDS));
    return {
      name: 'sync.records_per_s',
      value,
      unit: 'records/s',
      better: 'higher',
      target: 5000,
      baseline: { name: 'mosquitto_pub_sub.records_per_s', value: baseline },
      note:
        `${RECORDS} records at QoS 1, sent on PUBACK and receipted by the phone; ${(value / baseline).toFixed(2)}x ` +
        `mosquitto_pub -l; device CPU ${cpuUs.toFixed(0)} µs/record`,
    };
  } finally {
    await rig.stop();
  }
}

async function benchSnippet(): Promise<Metric> {
  const rig = await Rig.start({ fileBytes: FILE_BYTES, transfer: { maxBytesPerSecond: 2 ** 31 - 1 } });
  try {
    const start = await rig.phoneOnline();
    const cpu = process.cpuUsage();
    await until(() => rig.sync.stats().transfers.synced === 1, 120_000, 'the snippet', 20);
    const mb = FILE_BYTES / 2 ** 20;
    const value = mb / ((performance.now() - start) / 1000);
    const cpuMs = cpuMicros(cpu) / 1000 / mb;
    const baseline = mb / (await baselineFile(rig.mosquitto, FILE_BYTES));
    return {
      name: 'sync.snippet_mb_per_s',
      value,
      unit: 'MB/s',
      better: 'higher',
      target: 20,
      baseline: { name: 'mosquitto_pub_file.mb_per_s', value: baseline },
      note:
        `a ${mb} MiB file in 64 KiB checksummed chunks until the phone confirmed its sha256; ` +
        `${(value / baseline).toFixed(2)}x mosquitto_pub -f; device CPU ${cpuMs.toFixed(1)} ms/MB`,
    };
  } finally {
    await rig.stop();
  }
}

async function benchResume(): Promise<Metric> {
  const rig = await Rig.start({ records: 5000, outbox: { maxPerSecond: 500 } });
  const events = join(rig.phoneDir, 'events.jsonl');
  const size = () => {
    try {
      return statSync(events).size;
    } catch {
      return 0;
    }
  };
  try {
    await rig.phoneOnline();
    await until(() => rig.sync.stats().outbox.receipted >= 200, 60_000, 'a steady drain', 20);
    await rig.mosquitto.kill();
    await new Promise((r) => setTimeout(r, 300)); // what was in flight has landed; the next record is a new one
    const before = size();
    await rig.mosquitto.restart();
    const start = performance.now();
    await until(() => size() > before, 30_000, 'the next record after the restart');
    return {
      name: 'sync.resume_s',
      value: (performance.now() - start) / 1000,
      unit: 's',
      better: 'lower',
      target: 2,
      note: 'mosquitto SIGKILLed mid-drain, restarted with persistence off: from accepting connections to the next record the phone stored',
    };
  } finally {
    await rig.stop();
  }
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}
