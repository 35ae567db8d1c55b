import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { glance, glanceAsync, SAMPLE, tmp } from '../helpers/cli.ts';

const tsLines = (stream: string) =>
  readFileSync(join(SAMPLE, `${stream}.ts`), 'utf8')
    .trim()
    .split('\n').length;

interface Summary {
  sessionId: string;
  frames: Record<string, { read: number; processed: number; dropped: number }>;
  fps: Record<string, number>;
  stages: Record<string, { count: number; p50Ms: number; p99Ms: number }>;
  records: Record<string, number>;
  errors: { count: number; first: string[] };
  models: string[];
}

// Each case runs the whole default daemon (eye tracking, attention, snippets): minutes on a loaded machine.
describe('glance run --once on the sample session', { timeout: 300_000 }, () => {
  it('reads every frame, writes a row for each, and reports it in the summary', () => {
    const dir = tmp();
    const db = join(dir, 'g.db');
    const summaryFile = join(dir, 'summary.json');
    const r = glance(['run', '--replay', SAMPLE, '--once', '--db', db, '--summary', summaryFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
    const streams = ['eye0', 'eye1', 'scene'];
    for (const stream of streams) {
      expect(s.frames[stream]?.read, stream).toBe(tsLines(stream));
      expect(s.frames[stream]?.processed, stream).toBe(tsLines(stream));
      expect(s.frames[stream]?.dropped).toBe(0);
      expect(s.fps[stream]).toBeGreaterThan(0);
    }
    // Eye tracking runs on every eye frame and calibrates itself from the sample's 9-point segment.
    expect(s.records.gaze_samples).toBeGreaterThan((0.9 * (tsLines('eye0') + tsLines('eye1'))) / 2);
    expect(s.records.fixations).toBeGreaterThan(0);
    for (const stage of ['decode', 'pupil', 'gaze', 'eye-events', 'pairing', 'store']) {
      expect(s.stages[stage]?.count).toBeGreaterThan(0);
      expect(s.stages[stage]?.p99Ms).toBeGreaterThanOrEqual(s.stages[stage]?.p50Ms ?? 0);
    }
    expect(s.errors.count).toBe(0);
    expect(Array.isArray(s.models)).toBe(true);

    const sqlite = new Database(db, { readonly: true });
    const count = (stream: string) =>
      sqlite
        .prepare('SELECT COUNT(*) FROM frames WHERE session_id = ? AND stream = ?')
        .pluck()
        .get(s.sessionId, stream);
    for (const stream of streams) expect(count(stream)).toBe(tsLines(stream));
    expect(s.records.frames).toBe(streams.reduce((n, st) => n + tsLines(st), 0));
    // The sample's serial.log is all valid lines: each becomes one telemetry row, in time with the frames.
    const serialLines = readFileSync(join(SAMPLE, 'serial.log'), 'utf8').trim().split('\n').length;
    expect(s.records.telemetry).toBe(serialLines);
    const kinds = sqlite.prepare('SELECT DISTINCT kind FROM telemetry ORDER BY kind').pluck().all();
    expect(kinds).toEqual(['battery', 'button', 'imu', 'temperature']);
    // Every scene frame is paired with both eyes (the sample's eyes run at 120 Hz, far inside the 20 ms window).
    const unpaired = sqlite
      .prepare("SELECT COUNT(*) FROM frames WHERE stream = 'scene' AND (eye0_idx IS NULL OR eye1_idx IS NULL)")
      .pluck()
      .get();
    expect(unpaired).toBe(0);
    expect(sqlite.prepare('SELECT state FROM sessions WHERE id = ?').pluck().get(s.sessionId)).toBe('completed');
    expect(r.stdout).toContain('scene');
    sqlite.close();
  });

  it('exits 2 naming the file for a missing or corrupt video, and leaves an existing database intact', () => {
    const dir = tmp();
    const db = join(dir, 'g.db');
    expect(glance(['run', '--replay', SAMPLE, '--once', '--db', db]).status).toBe(0);
    const before = readFileSync(db);

    const missing = join(dir, 'missing');
    cpSync(SAMPLE, missing, { recursive: true });
    rmSync(join(missing, 'eye1.mp4'));
    const r1 = glance(['run', '--replay', missing, '--once', '--db', db]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain('eye1.mp4');

    const corrupt = join(dir, 'corrupt');
    cpSync(SAMPLE, corrupt, { recursive: true });
    writeFileSync(join(corrupt, 'scene.mp4'), Buffer.alloc(50_000, 7));
    const r2 = glance(['run', '--replay', corrupt, '--once', '--db', db]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('scene.mp4');

    const empty = join(dir, 'empty');
    cpSync(SAMPLE, empty, { recursive: true });
    writeFileSync(join(empty, 'eye0.mp4'), '');
    const r3 = glance(['run', '--replay', empty, '--once', '--db', db]);
    expect(r3.status).toBe(2);
    expect(r3.stderr).toContain('eye0.mp4');

    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('exits 2 naming an unknown config key or an unwritable database path', () => {
    const dir = tmp();
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'pipeline:\n  pairingMaxSkewMs: 10\n  colour: blue\n');
    const r1 = glance(['run', '--config', config, '--once', '--db', join(dir, 'g.db')]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain('pipeline.colour');
    expect(existsSync(join(dir, 'g.db'))).toBe(false);

    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const r2 = glance(['run', '--replay', SAMPLE, '--once', '--db', join(file, 'g.db')]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('plain-file/g.db');
  });

  it('survives SIGKILL mid-run: the database opens cleanly with every committed row', async () => {
    const dir = tmp();
    const db = join(dir, 'g.db');
    const child = glanceAsync(['run', '--replay', SAMPLE, '--pace', 'realtime', '--db', db]);
    // Wait until rows are being committed (read through a second connection, as WAL allows), then kill.
    const deadline = Date.now() + 60_000;
    let committed = 0;
    while (Date.now() < deadline && committed < 1000) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(db)) continue;
      try {
        const probe = new Database(db, { readonly: true, fileMustExist: true });
        committed = probe.prepare('SELECT COUNT(*) FROM frames').pluck().get() as number;
        probe.close();
      } catch {
        committed = 0; // the schema is still being created
      }
    }
    expect(committed).toBeGreaterThanOrEqual(1000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const sqlite = new Database(db);
    expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = sqlite.prepare('SELECT COUNT(*) FROM frames').pluck().get() as number;
    expect(rows).toBeGreaterThan(0);
    // Batches commit whole and in order: each stream's rows are a gap-free prefix of its frames.
    for (const stream of ['eye0', 'eye1', 'scene']) {
      const { n, top } = sqlite
        .prepare('SELECT COUNT(*) AS n, MAX(idx) AS top FROM frames WHERE stream = ?')
        .get(stream) as { n: number; top: number | null };
      if (n > 0) expect(top, stream).toBe(n - 1);
    }
    expect(sqlite.prepare('SELECT state FROM sessions').pluck().get()).toBe('running');
    sqlite.close();
    // The next start marks the killed session interrupted and carries on.
    const r = glance(['run', '--replay', SAMPLE, '--once', '--db', db]);
    expect(r.status).toBe(0);
    const after = new Database(db, { readonly: true });
    expect(after.prepare("SELECT COUNT(*) FROM sessions WHERE state = 'interrupted'").pluck().get()).toBe(1);
    expect(after.prepare('SELECT COUNT(*) FROM frames').pluck().get()).toBeGreaterThan(rows);
    after.close();
  });
});
