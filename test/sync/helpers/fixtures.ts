import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Db } from '../../../storage/db.ts';
import { openDatabase } from '../../../storage/db.ts';
import { Outbox } from '../../../storage/outbox.ts';
import { TransferRepository } from '../../../storage/transfers.ts';
import type { CommandEffects } from '../../../sync/commands/command.ts';

export function tmp(prefix = 'glance-sync-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface SeededFile {
  readonly transferId: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** A device database with `records` outbox rows (alternating kinds) and `files` random files registered to send. */
export function seedDevice(
  dir: string,
  records: number,
  fileSizes: readonly number[],
): { db: Db; files: SeededFile[] } {
  const db = openDatabase(join(dir, 'device.db'));
  const outbox = new Outbox(db);
  const transfers = new TransferRepository(db);
  db.transaction(() => {
    for (let i = 0; i < records; i++) {
      outbox.enqueue(i % 3 === 0 ? 'emotionship' : 'snippet', `rec-${i}`, { i, note: 'x'.repeat(i % 50) });
    }
  })();
  const files = fileSizes.map((size, i) => {
    const data = randomBytes(size);
    const path = join(dir, `clip-${i}.mp4`);
    writeFileSync(path, data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const transferId = transfers.register({ kind: 'snippet', recordId: `clip-${i}`, path, size, sha256 });
    return { transferId, path, size, sha256 };
  });
  return { db, files };
}

/** A logger whose records the test can read back (to check that a refusal was logged). */
export function capturingLogger(): { logger: Logger; records: () => { msg: string; [k: string]: unknown }[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records: () => lines.map((l) => JSON.parse(l)) };
}

export function recordingEffects(): { effects: CommandEffects; calls: string[] } {
  const calls: string[] = [];
  const effects: CommandEffects = {
    pause: (r) => void calls.push(`pause:${r.reason ?? ''}`),
    resume: () => void calls.push('resume'),
    calibrate: (r) => {
      calls.push(`calibrate:${r.points}`);
      return { sessionId: 'cal-1' };
    },
    label: (r) => void calls.push(`label:${r.requestId}=${r.answer}`),
    installModel: (r) => {
      calls.push(`install:${r.name}@${r.version}`);
      return { activated: false, reason: 'signature does not verify' };
    },
    rollbackModel: (r) => {
      calls.push(`rollback:${r.name}`);
      return { name: r.name, version: '1.0.0' };
    },
    namePerson: (r) => {
      calls.push(`name:${r.personId}=${r.name}`);
      return { id: r.personId, name: r.name, enrolled: r.enrolled, tracks: 1 };
    },
    mergePeople: (r) => {
      calls.push(`merge:${r.from.join(',')}->${r.into}`);
      return { id: r.into, name: null, enrolled: false, tracks: 2 };
    },
    splitPerson: (r) => {
      calls.push(`split:${r.personId}:${r.faceIds.join(',')}`);
      return { id: 'p-new', name: null, enrolled: false, tracks: r.faceIds.length };
    },
    forgetPerson: (r) => {
      calls.push(`forget:${r.personId}`);
      return { faces: 0, files: 0 };
    },
  };
  return { effects, calls };
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Everything sync may change in the database, as one string to compare before and after. */
export function syncTables(db: Db): string {
  return JSON.stringify([
    db.prepare('SELECT * FROM outbox ORDER BY id').all(),
    db.prepare('SELECT * FROM outbox_undelivered ORDER BY outbox_id').all(),
    db.prepare('SELECT * FROM transfers ORDER BY id').all(),
  ]);
}
