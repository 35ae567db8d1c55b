import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { fileDigest } from '../../../sync/transfer/file-digest.ts';

interface StoredEvent {
  readonly seq: number;
  readonly kind: string;
  readonly recordId: string;
}

/** What the reference receiver stored in its folder. */
export function storedEvents(outDir: string): StoredEvent[] {
  return readFileSync(join(outDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredEvent);
}

/** Exactly once after de-duplication, and in outbox order within each kind. */
export function expectExactlyOnceInOrder(outDir: string, records: number): void {
  const events = storedEvents(outDir);
  expect(events).toHaveLength(records);
  expect(new Set(events.map((e) => e.recordId)).size).toBe(records);
  for (const kind of new Set(events.map((e) => e.kind))) {
    const seqs = events.filter((e) => e.kind === kind).map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  }
}

export async function expectSnippetsIntact(outDir: string, files: { sha256: string; size: number }[]): Promise<void> {
  const lines = readFileSync(join(outDir, 'snippets.jsonl'), 'utf8').split('\n').filter(Boolean);
  const stored = lines.map((l) => JSON.parse(l) as { sha256: string; file: string });
  expect(stored).toHaveLength(files.length);
  for (const file of files) {
    const copy = stored.find((s) => s.sha256 === file.sha256);
    expect(copy).toBeDefined();
    expect(await fileDigest(copy?.file as string)).toEqual({ size: file.size, sha256: file.sha256 });
  }
}

/** The device's sync state, read from its database file by a separate read-only connection. */
export function deviceTables(dbFile: string) {
  const db = new Database(dbFile, { readonly: true });
  try {
    return {
      unsent: db.prepare('SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL').pluck().get() as number,
      transfers: db.prepare('SELECT state, acked_chunks AS acked FROM transfers').all() as {
        state: string;
        acked: number;
      }[],
    };
  } finally {
    db.close();
  }
}
