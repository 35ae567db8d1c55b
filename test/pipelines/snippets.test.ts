import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import cv from '../../device/opencv.ts';
import { tmp } from '../helpers/cli.ts';
import { type Episode, recordSample, SETTINGS, sampleEpisodes } from './snippet-harness.ts';

interface Row {
  id: string;
  start_t_ns: number;
  end_t_ns: number;
  frames: number;
  path: string;
  thumb_path: string;
  sidecar_path: string;
  sha256: string;
  bytes: number;
}

const FRAME_NS = 1e9 / 30;

/**
 * The clips the recorder should make: episodes merge when one starts before the previous clip's post-capture
 * ends, and a clip's pre-capture never reaches back into the previous clip (a frame is in one clip only).
 */
function expectedClips(episodes: Episode[], preS: number, postS: number): Array<{ from: number; to: number }> {
  const clips: Array<{ from: number; to: number }> = [];
  for (const e of episodes) {
    const from = Number(e.startNs) - preS * 1e9;
    const to = Number(e.endNs) + postS * 1e9;
    const last = clips.at(-1);
    if (last && Number(e.startNs) <= last.to) last.to = to;
    else clips.push({ from: last ? Math.max(from, last.to + FRAME_NS / 2) : from, to });
  }
  return clips;
}

function decodedFrames(file: string): number {
  const cap = new cv.VideoCapture(file);
  let n = 0;
  while (!cap.read().empty) n++;
  cap.release();
  return n;
}

function ffprobeFrames(file: string): number {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    file,
  ]);
  return Number(out.toString().trim());
}

describe('snippet recorder on the sample session', () => {
  it('cuts a clip per (merged) attention episode within ±1 frame of the pre/post window, whole and checksummed', async () => {
    const dataDir = tmp();
    const { db, sceneTimes } = await recordSample({ dataDir, dbFile: join(dataDir, 'g.db') });
    const rows = db.prepare('SELECT * FROM snippets ORDER BY start_t_ns').all() as Row[];
    const lastScene = Number(sceneTimes.at(-1));
    const firstScene = Number(sceneTimes[0]);
    const expected = expectedClips(sampleEpisodes(), SETTINGS.preSeconds, SETTINGS.postSeconds);
    expect(rows.length).toBe(expected.length);
    rows.forEach((row, i) => {
      const want = expected[i] as { from: number; to: number };
      expect(Math.abs(row.start_t_ns - Math.max(want.from, firstScene)), `clip ${i} start`).toBeLessThanOrEqual(
        FRAME_NS,
      );
      expect(Math.abs(row.end_t_ns - Math.min(want.to, lastScene)), `clip ${i} end`).toBeLessThanOrEqual(FRAME_NS);
      const video = join(dataDir, row.path);
      expect(decodedFrames(video)).toBe(row.frames);
      expect(ffprobeFrames(video)).toBe(row.frames);
      expect(createHash('sha256').update(readFileSync(video)).digest('hex')).toBe(row.sha256);
      const sidecar = JSON.parse(readFileSync(join(dataDir, row.sidecar_path), 'utf8')) as { frames: unknown[] };
      expect(sidecar.frames.length).toBe(row.frames);
      expect(readFileSync(join(dataDir, row.thumb_path)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    });
    const outbox = db.prepare("SELECT record_id FROM outbox WHERE kind = 'snippet' ORDER BY id").pluck().all();
    expect(outbox).toEqual(rows.map((r) => r.id));
    // Each snippet's video is registered for the phone transfer in the same transaction.
    const transfers = db.prepare("SELECT record_id, size, sha256 FROM transfers WHERE kind = 'snippet'").all();
    expect(transfers).toHaveLength(rows.length);
    expect(readdirSync(join(dataDir, 'snippets')).filter((f) => f.includes('.partial'))).toEqual([]);
    db.close();
  });

  it('splits a clip at the maximum length and records nothing while paused, not even as pre-capture', async () => {
    const dataDir = tmp();
    const episodes = sampleEpisodes();
    const pauseFrom = episodes[0]?.startNs ?? 0n;
    const pauseTo = (episodes[2]?.endNs ?? 0n) + 1_500_000_000n;
    const { db } = await recordSample({
      dataDir,
      dbFile: join(dataDir, 'g.db'),
      settings: { maxSeconds: 2 },
      onFrame: (tNs, capture) => {
        if (tNs >= pauseFrom && tNs < pauseTo) capture.pause();
        else capture.resume();
      },
    });
    const rows = db.prepare('SELECT * FROM snippets ORDER BY start_t_ns').all() as Row[];
    expect(rows.length).toBeGreaterThan(1);
    for (const r of rows) {
      expect(r.end_t_ns - r.start_t_ns).toBeLessThanOrEqual(2e9 + FRAME_NS);
      const overlapsPause = r.start_t_ns < Number(pauseTo) && r.end_t_ns >= Number(pauseFrom);
      expect(overlapsPause, `snippet ${r.id} overlaps the pause`).toBe(false);
    }
    db.close();
  });
});

describe('snippet recorder on a full disk', () => {
  const mountDir = tmp();
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=100k', 'tmpfs', mountDir], { stdio: 'ignore' });
    mounted = true;
  } catch {
    mounted = false;
  }
  afterAll(() => {
    if (mounted) execFileSync('umount', ['-l', mountDir]);
  });

  // Mounting a small tmpfs needs root (CI and the dev machines run as root); elsewhere this case cannot be built.
  it.runIf(mounted)('writes no partial or corrupt row, says why it stopped, and keeps going', async () => {
    const dataDir = join(mountDir, 'data');
    mkdirSync(dataDir);
    const dbDir = tmp();
    const { db, capture, recorder } = await recordSample({
      dataDir,
      dbFile: join(dbDir, 'g.db'),
      settings: { retention: { budgetBytes: 100e6, maxAgeDays: 0, minFreeBytes: 0 } },
    });
    const rows = db.prepare('SELECT * FROM snippets').all() as Row[];
    for (const r of rows) {
      const video = join(dataDir, r.path);
      expect(existsSync(video)).toBe(true);
      expect(decodedFrames(video)).toBe(r.frames);
    }
    expect(recorder.failed + rows.length).toBeGreaterThan(rows.length); // the disk did fill up
    expect(capture.status().blockedBy ?? '').toMatch(/disk full/);
    expect(readdirSync(join(dataDir, 'snippets')).filter((f) => f.includes('.partial'))).toEqual([]);
    db.close();
  });
});
