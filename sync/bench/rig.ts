import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { REPO_ROOT } from '../../device/paths.ts';
import type { Db } from '../../storage/db.ts';
import { openDatabase } from '../../storage/db.ts';
import { Outbox } from '../../storage/outbox.ts';
import { TransferRepository } from '../../storage/transfers.ts';
import { syncConfigSchema } from '../config.ts';
import { type SyncHandle, startSync } from '../index.ts';
import { LocalMosquitto } from './mosquitto.ts';

const RECEIVER_CLI = join(REPO_ROOT, 'tools/receiver/cli.ts');
export const DEVICE_ID = 'bench';

export interface RigOptions {
  readonly records?: number;
  readonly fileBytes?: number;
  readonly outbox?: Record<string, number>;
  readonly transfer?: Record<string, number>;
  readonly chunkBytes?: number;
}

/**
 * A device (startSync on a fresh database) and a phone (the reference receiver, in a process of its own as a real
 * phone would be) around a local mosquitto. `phoneOnline()` resolves when the device may start sending.
 */
export class Rig {
  private constructor(
    readonly mosquitto: LocalMosquitto,
    readonly dir: string,
    readonly db: Db,
    readonly sync: SyncHandle,
    private readonly receiver: ChildProcess,
  ) {}

  static async start(options: RigOptions): Promise<Rig> {
    // The broker's queue per subscriber must hold what a baseline publisher pushes ahead of its subscriber.
    // mosquitto's default Receive Maximum (max_inflight_messages 20) would cap any MQTT 5 client at 20 messages
    // awaiting PUBACK; the drain honours it, so the broker is given the window a phone-sync deployment would use.
    const mosquitto = await LocalMosquitto.start({
      extra: ['max_queued_messages 1000000', 'max_inflight_messages 1000'],
    });
    const dir = mkdtempSync(join(tmpdir(), 'glance-bench-sync-'));
    const db = openDatabase(join(dir, 'device.db'));
    seed(db, dir, options);
    const logger = pino({ level: 'warn' }, pino.destination(2));
    const config = syncConfigSchema.parse({
      broker: { type: 'external', url: mosquitto.url },
      reconnectMs: 200,
      outbox: options.outbox ?? {},
      transfer: options.transfer ?? {},
      ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
    });
    const sync = await startSync({
      ...{ db, config, deviceId: DEVICE_ID, logger },
      status: () => ({ capture: 'running', models: {} }),
      effects: refuseAll,
    });
    const receiver = spawn(
      process.execPath,
      ['--import', 'tsx', RECEIVER_CLI, '--url', mosquitto.url, '--device', DEVICE_ID, '--out', join(dir, 'phone')],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, GLANCE_LOG_LEVEL: 'warn' } },
    );
    return new Rig(mosquitto, dir, db, sync, receiver);
  }

  get phoneDir(): string {
    return join(this.dir, 'phone');
  }

  /** Resolves once the phone has announced itself, returning that moment (performance.now()). */
  async phoneOnline(timeoutMs = 30_000): Promise<number> {
    await until(() => this.sync.stats().phoneOnline, timeoutMs, 'the phone to come online');
    return performance.now();
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => {
      if (this.receiver.exitCode !== null) return done();
      this.receiver.once('exit', () => done());
      this.receiver.kill('SIGTERM');
    });
    await this.sync.stop();
    this.db.close();
    await this.mosquitto.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function until(check: () => boolean, timeoutMs: number, what: string, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Records shaped like the daemon's (a short JSON object each), and one random file registered to send. */
function seed(db: Db, dir: string, options: RigOptions): void {
  const outbox = new Outbox(db);
  db.transaction(() => {
    for (let i = 0; i < (options.records ?? 0); i++) {
      outbox.enqueue(i % 3 === 0 ? 'emotionship' : 'snippet', `rec-${i}`, { i, note: 'x'.repeat(25) });
    }
  })();
  if (options.fileBytes !== undefined) {
    const data = randomBytes(options.fileBytes);
    const path = join(dir, 'clip.mp4');
    writeFileSync(path, data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    new TransferRepository(db).register({ kind: 'snippet', recordId: 'clip', path, size: data.length, sha256 });
  }
}

const refused = () => {
  throw new Error('the benchmark sends no commands');
};
const refuseAll = {
  pause: refused,
  resume: refused,
  calibrate: refused,
  label: refused,
  installModel: refused,
  rollbackModel: refused,
  namePerson: refused,
  mergePeople: refused,
  splitPerson: refused,
  forgetPerson: refused,
};
