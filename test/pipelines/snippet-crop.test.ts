import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import cv from '../../device/opencv.ts';
import { tmp } from '../helpers/cli.ts';
import { recordSample, sampleEpisodes } from './snippet-harness.ts';

interface Sidecar {
  frames: { tNs: string; gaze: { x: number; y: number } | null; window?: [number, number, number, number] }[];
}

describe('a snippet that follows the gaze', () => {
  it('keeps a window of the scene that tracks the gaze, and says where it was per frame', async () => {
    const dataDir = tmp();
    // One pursuit episode of the sample (objects move, so the gaze and the window travel).
    const episode = sampleEpisodes().slice(0, 1);
    const { repo, db } = await recordSample({
      dataDir,
      dbFile: join(dataDir, 'g.db'),
      episodes: episode,
      trueGaze: true,
      settings: { crop: 0.5, width: 160 },
    });
    const [snippet] = repo.listByAge();
    db.close();
    expect(snippet).toBeDefined();
    if (!snippet) return;
    const cap = new cv.VideoCapture(join(dataDir, snippet.path));
    const first = cap.read();
    expect([first.cols, first.rows]).toEqual([160, 120]);
    first.release();
    cap.release();

    const sidecar = JSON.parse(readFileSync(join(dataDir, snippet.sidecarPath), 'utf8')) as Sidecar;
    const distances: number[] = [];
    for (const f of sidecar.frames) {
      expect(f.window).toBeDefined();
      const [x, y, w, h] = f.window ?? [0, 0, 0, 0];
      expect([w, h]).toEqual([320, 240]);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(640);
      expect(y + h).toBeLessThanOrEqual(480);
      if (f.gaze) distances.push(Math.hypot(x + w / 2 - f.gaze.x, y + h / 2 - f.gaze.y));
    }
    distances.sort((a, b) => a - b);
    // The window lags a saccade by a few frames and stops at the frame's edges; most of the time it is centred.
    expect(distances[Math.floor(distances.length / 2)]).toBeLessThan(40);
    const xs = sidecar.frames.map((f) => f.window?.[0] ?? 0);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(20);
  });
});
