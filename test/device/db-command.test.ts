import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { glance, SAMPLE, tmp } from '../helpers/cli.ts';

describe('glance db', () => {
  const dir = tmp();
  const db = join(dir, 'g.db');
  beforeAll(() => {
    expect(glance(['run', '--replay', SAMPLE, '--once', '--db', db]).status).toBe(0);
  });

  it('inspect reports the schema version and the rows per table', () => {
    const r = glance(['db', 'inspect', '--db', db, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { schemaVersion: number; tables: Record<string, number> };
    expect(report.schemaVersion).toBeGreaterThanOrEqual(1);
    expect(report.tables.sessions).toBe(1);
    expect(report.tables.frames).toBe(8100);
  });

  it('export writes a table as JSON lines, and names an unknown table or a missing file', () => {
    const out = join(dir, 'sessions.jsonl');
    expect(glance(['db', 'export', '--table', 'sessions', '--db', db, '--out', out]).status).toBe(0);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { state: string });
    expect(rows.map((r) => r.state)).toEqual(['completed']);
    const bad = glance(['db', 'export', '--table', 'nope', '--db', db]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('no table nope');
    const missing = glance(['db', 'inspect', '--db', join(dir, 'absent.db')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('absent.db');
  });
});

describe('glance sync status', () => {
  it('reports what is still on its way to the phone', () => {
    const db = join(tmp(), 's.db');
    expect(glance(['run', '--replay', SAMPLE, '--once', '--db', db]).status).toBe(0);
    const r = glance(['sync', 'status', '--db', db, '--json']);
    expect(r.status).toBe(0);
    // Without a phone, each snippet the run recorded waits as a record and as a file transfer.
    const sqlite = new Database(db, { readonly: true });
    const snippets = sqlite.prepare('SELECT COUNT(*) FROM snippets').pluck().get() as number;
    sqlite.close();
    expect(snippets).toBeGreaterThan(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      pendingRecords: snippets,
      awaitingReceipt: 0,
      transfers: { pending: snippets },
    });
  });
});
