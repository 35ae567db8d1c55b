import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { REPO_ROOT } from '../device/paths.ts';

const MIGRATIONS_DIR = join(REPO_ROOT, 'storage/migrations');
const NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort()
    .map((file) => ({
      version: Number(NAME.exec(file)?.[1]),
      name: file,
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
}

/**
 * Applies the forward-only numbered migrations that this database has not seen, each in its own transaction.
 * A file database that already holds data is copied to `<file>.bak-v<N>` first, so a migration that goes wrong
 * on a wearer's device never costs them their memories.
 */
export function migrate(db: Database.Database, file: string | null, migrations = loadMigrations()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)`);
  const applied = new Set(db.prepare('SELECT version FROM schema_version').pluck().all() as number[]);
  // Every migration not yet recorded, in order — not just those above the highest: migrations written on
  // parallel branches can land out of number order, and each must still run exactly once.
  const pending = migrations.filter((m) => !applied.has(m.version));
  if (pending.length === 0) return [];
  const current = applied.size === 0 ? 0 : Math.max(...applied);
  if (file !== null && current > 0 && existsSync(file)) {
    db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(file, `${file}.bak-v${current}`);
  }
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)');
  for (const m of pending) {
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    })();
  }
  return pending.map((m) => m.version);
}
