import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BadInputError, messageOf } from '../device/errors.ts';
import { migrate } from './migrations.ts';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the device database: WAL so the phone-sync reader never blocks the writer,
 * foreign keys on, `synchronous=NORMAL` (durable at every WAL checkpoint and safe against corruption on power
 * loss: a crash can lose only the last transactions, never tear one), then the pending migrations.
 */
export function openDatabase(file: string): Db {
  const path = file === ':memory:' ? file : resolve(file);
  if (path !== ':memory:') checkWritable(path);
  let db: Db;
  try {
    db = new Database(path);
  } catch (error) {
    throw new BadInputError(`cannot open database ${path}: ${messageOf(error)}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const quick = db.pragma('quick_check', { simple: true });
    if (quick !== 'ok') throw new Error(`integrity check failed: ${String(quick)}`);
    migrate(db, path === ':memory:' ? null : path);
  } catch (error) {
    db.close();
    throw new BadInputError(`database ${path} is not usable: ${messageOf(error)}`);
  }
  return db;
}

function checkWritable(path: string): void {
  const dir = dirname(path);
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    accessSync(existsSync(path) ? path : dir, constants.W_OK);
  } catch (error) {
    throw new BadInputError(`database path ${path} is not writable: ${messageOf(error)}`);
  }
}
