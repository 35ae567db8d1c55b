import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { openDatabase } from '../../storage/db.ts';
import { TransferRepository } from '../../storage/transfers.ts';
import { BadInputError, messageOf } from '../errors.ts';
import { readCondensedSet } from '../share/condensed-set.ts';

export const CONDENSED_KIND = 'condensed';

/**
 * `glance share FILE`: queue a condensed dataset (`glance condense`) for the phone. It travels like a snippet
 * (chunked, checksummed, resumable; `snippets/<id>/…`, manifest kind `condensed`), so a running daemon sends it
 * as soon as a phone listens. Only condensed sets are accepted: this is the path by which a wearer shares
 * training data, and raw recordings must not leave this way.
 */
export function registerShareCommand(program: Command): void {
  program
    .command('share')
    .description('queue a condensed dataset (glance condense --out FILE) to be sent to the phone')
    .argument('<file>', 'the condensed set (.npz, schema glance.condensed/1)')
    .option('--db <file>', 'device SQLite database (the file goes to a shared/ folder beside it)', 'data/glance.db')
    .option('--json', 'print JSON')
    .action((file: string, opts: { db: string; json?: boolean }) => {
      const result = shareCondensed(resolve(file), resolve(opts.db));
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${result.queued ? 'queued' : 'already queued'} for the phone: ${result.dataset} (${result.method}, ` +
              `${result.records} records, ${result.bytes} bytes) as transfer ${result.transferId} [${result.state}]\n`,
      );
    });
}

export interface ShareResult {
  readonly transferId: string;
  readonly queued: boolean;
  readonly state: string;
  readonly path: string;
  readonly dataset: string;
  readonly method: string;
  readonly records: number;
  readonly bytes: number;
  readonly sha256: string;
}

/** Condensed sets are kilobytes to a few megabytes; anything far larger is not one, and is not read into memory. */
const MAX_BYTES = 64 * 1024 * 1024;

export function shareCondensed(file: string, dbFile: string): ShareResult {
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_BYTES)
      throw new BadInputError(`${file}: ${size} bytes is not a condensed set (at most ${MAX_BYTES})`);
    bytes = readFileSync(file);
  } catch (error) {
    if (error instanceof BadInputError) throw error;
    throw new BadInputError(`${file}: cannot read: ${messageOf(error)}`);
  }
  const set = readCondensedSet(bytes, file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const recordId = `condensed-${sha256.slice(0, 16)}`;
  // A mistyped --db would otherwise create a database the daemon never reads, and the file would never leave.
  if (!existsSync(dbFile)) throw new BadInputError(`--db: ${dbFile} does not exist (the daemon's database)`);
  const db = openDatabase(dbFile);
  try {
    const transfers = new TransferRepository(db);
    const summary = {
      dataset: set.meta.dataset.name,
      method: set.meta.method,
      records: set.records,
      bytes: bytes.length,
      sha256,
    };
    const live = transfers.liveFor(CONDENSED_KIND, recordId);
    if (live) return { ...summary, transferId: live.id, queued: false, state: live.state, path: live.path };
    // The phone names its copy after the file; the hash keeps two condensations of one dataset apart.
    const name = `${safe(set.meta.dataset.name)}-${safe(set.meta.method)}-ipc${set.meta.ipc}-${sha256.slice(0, 8)}.npz`;
    const path = join(dirname(dbFile), 'shared', name);
    writeDurably(path, bytes);
    const transferId = transfers.register({ kind: CONDENSED_KIND, recordId, path, size: bytes.length, sha256 });
    return { ...summary, transferId, queued: true, state: 'pending', path };
  } finally {
    db.close();
  }
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);

/** The transfer row may only point at a complete file: write a temporary copy, fsync, rename, fsync the folder. */
function writeDurably(path: string, bytes: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot store ${path}: ${messageOf(error)}`);
  }
}
