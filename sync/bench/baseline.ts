import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalMosquitto } from './mosquitto.ts';

/**
 * The floor to compare with: mosquitto's own clients moving the same messages through the same broker at QoS 1,
 * `mosquitto_pub` publishing and a `mosquitto_sub` counting them off. Returns seconds from the publisher's start
 * until the subscriber has everything.
 */
async function pubSub(broker: LocalMosquitto, pubArgs: string[], count: number, stdin?: string): Promise<number> {
  const port = String(broker.port);
  const topic = `bench/baseline/${createHash('sha1').update(pubArgs.join()).digest('hex').slice(0, 8)}`;
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-t', topic, '-q', '1', '-C', String(count)], {
    stdio: 'ignore',
  });
  const subDone = new Promise<void>((resolve, reject) => {
    sub.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_sub exited with ${code}`))));
  });
  await new Promise((r) => setTimeout(r, 300)); // mosquitto_sub has no "subscribed" signal
  const start = performance.now();
  const pub = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-t', topic, '-q', '1', ...pubArgs], {
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'],
  });
  if (stdin !== undefined) pub.stdin?.end(stdin);
  await subDone;
  return (performance.now() - start) / 1000;
}

/** `mosquitto_pub -l`: one message per stdin line, lines like the drain's event payloads. */
export function baselineRecords(broker: LocalMosquitto, count: number): Promise<number> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const data = JSON.stringify({ i, note: 'x'.repeat(25) });
    lines.push(
      `{"v":1,"seq":${i + 1},"kind":"snippet","recordId":"rec-${i}","createdMs":${Date.now()},"data":${data}}`,
    );
  }
  return pubSub(broker, ['-l'], count, `${lines.join('\n')}\n`);
}

/** `mosquitto_pub -f`: the same number of bytes as one message. */
export async function baselineFile(broker: LocalMosquitto, bytes: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'glance-bench-file-'));
  try {
    const file = join(dir, 'clip.bin');
    writeFileSync(file, randomBytes(bytes));
    return await pubSub(broker, ['-f', file], 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
