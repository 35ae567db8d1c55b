import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import cv from '../../device/opencv.ts';
import { glance, ROOT, tmp } from '../helpers/cli.ts';
import { recordSample } from './snippet-harness.ts';

describe('snippets and a killed process', () => {
  it('SIGKILL mid-write leaves no row pointing at a missing or partial file; the next start sweeps partials', async () => {
    const dataDir = tmp();
    const dbFile = join(dataDir, 'g.db');
    const child = spawn(
      'node',
      [
        '--import',
        join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'),
        join(ROOT, 'test/pipelines/snippet-child.ts'),
        dataDir,
        dbFile,
      ],
      { stdio: 'ignore' },
    );
    // Kill it while it is writing: after some snippets exist, at a moment it does not choose.
    const deadline = Date.now() + 60_000;
    let rows = 0;
    while (rows < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      if (!existsSync(dbFile)) continue;
      try {
        const probe = new Database(dbFile, { readonly: true });
        rows = probe.prepare('SELECT COUNT(*) FROM snippets').pluck().get() as number;
        probe.close();
      } catch {
        rows = 0;
      }
    }
    await new Promise((r) => setTimeout(r, 137));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const db = new Database(dbFile);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = db.prepare('SELECT path, frames FROM snippets').all() as Array<{ path: string; frames: number }>;
    expect(stored.length).toBeGreaterThanOrEqual(3);
    for (const s of stored) {
      const cap = new cv.VideoCapture(join(dataDir, s.path));
      let n = 0;
      while (!cap.read().empty) n++;
      cap.release();
      expect(n, s.path).toBe(s.frames);
    }
    db.close();
    // A new recorder on the same folder removes whatever the killed one left half-written.
    const again = await recordSample({ dataDir, dbFile, episodes: [] });
    again.db.close();
    expect(readdirSync(join(dataDir, 'snippets')).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('glance capture pause/resume/status is durable', () => {
    const db = join(tmp(), 'c.db');
    expect(glance(['capture', 'status', '--db', db]).stdout).toContain('capture recording');
    expect(glance(['capture', 'pause', '--db', db]).stdout).toContain('capture paused');
    expect(glance(['capture', 'status', '--db', db]).stdout).toContain('capture paused');
    expect(glance(['capture', 'resume', '--db', db]).stdout).toContain('capture recording');
  });
});
