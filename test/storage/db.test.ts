import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../device/errors.ts';
import { openDatabase } from '../../storage/db.ts';
import { gazeSampleWriter } from '../../storage/gaze-samples.ts';
import { loadMigrations, migrate } from '../../storage/migrations.ts';
import { Outbox } from '../../storage/outbox.ts';
import { SessionRepository } from '../../storage/sessions.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'glance-db-'));

function withSession(file: string) {
  const db = openDatabase(file);
  new SessionRepository(db).start({ id: 's1', device: 'd', source: 'test', startedWallMs: 1, startedTNs: 1n });
  return db;
}

describe('storage', () => {
  it('opens in WAL mode with foreign keys on and every migration applied', () => {
    const db = openDatabase(join(tmp(), 'a.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    expect(versions).toEqual(loadMigrations().map((m) => m.version));
    expect(() =>
      db.prepare("INSERT INTO frames (session_id, stream, idx, t_ns) VALUES ('nope', 'eye0', 0, 0)").run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('applies only new migrations, after backing up a database that has data', () => {
    const dir = tmp();
    const file = join(dir, 'b.db');
    withSession(file).close();
    const db = new Database(file);
    const extra = [...loadMigrations(), { version: 999, name: '999_add_probe.sql', sql: 'CREATE TABLE probe (x);' }];
    expect(migrate(db, file, extra)).toEqual([999]);
    expect(migrate(db, file, extra)).toEqual([]);
    db.close();
    expect(existsSync(`${file}.bak-v${loadMigrations().at(-1)?.version}`)).toBe(true);
  });

  it('writes gaze samples in batches and keeps only committed batches after a crash-like close', () => {
    const file = join(tmp(), 'c.db');
    const db = withSession(file);
    const writer = gazeSampleWriter(db, 100);
    for (let i = 0; i < 250; i++)
      writer.add({ sessionId: 's1', tNs: BigInt(i), eye: 'eye0', x: i, y: i, confidence: 1 });
    expect(writer.rowsWritten).toBe(200); // 50 still buffered
    db.close(); // no flush: what was not committed is not there, and nothing half-written is
    const again = openDatabase(file);
    expect(again.prepare('SELECT COUNT(*) FROM gaze_samples').pluck().get()).toBe(200);
    again.close();
  });

  it('outbox: pending in order, marked sent once', () => {
    const db = withSession(join(tmp(), 'd.db'));
    const outbox = new Outbox(db);
    const ids = ['a', 'b', 'c'].map((r) => outbox.enqueue('snippet', r, { r }));
    expect(outbox.pending(10).map((m) => m.recordId)).toEqual(['a', 'b', 'c']);
    expect(outbox.markSent(ids[1] as number)).toBe(true);
    expect(outbox.markSent(ids[1] as number)).toBe(false);
    expect(outbox.pending(10).map((m) => m.recordId)).toEqual(['a', 'c']);
    expect(outbox.pendingCount()).toBe(2);
    db.close();
  });

  it('refuses an unwritable path and a file that is not a database, naming the path', () => {
    const dir = tmp();
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    expect(() => openDatabase(join(notADir, 'x.db'))).toThrow(BadInputError);
    expect(() => openDatabase(join(notADir, 'x.db'))).toThrow(/file\/x\.db/);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite'.repeat(300));
    expect(() => openDatabase(junk)).toThrow(/junk\.db/);
  });
});
