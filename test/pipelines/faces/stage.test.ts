import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import cv from '../../../device/opencv.ts';
import { facesConfigSchema } from '../../../pipelines/faces/config.ts';
import { CROP_SIDE } from '../../../pipelines/faces/crops.ts';
import { FacesStage } from '../../../pipelines/faces/stage.ts';
import type { FaceTrack } from '../../../pipelines/faces/tracker.ts';
import { OPENCV_DATA, SAMPLE } from '../../helpers/cli.ts';

/** Drives the stage with the frames of a real video file, as the pipeline would with scene frames. */
async function runVideo(file: string, maxFrames = Number.POSITIVE_INFINITY) {
  const tracks: FaceTrack[] = [];
  const stage = new FacesStage(facesConfigSchema.parse({ enabled: true }), (t) => {
    tracks.push(t);
  });
  const cap = new cv.VideoCapture(file);
  let i = 0;
  for (let m = cap.read(); !m.empty && i < maxFrames; m = cap.read()) {
    await stage.onFrame(m, BigInt(i++) * 41_708_333n);
    m.release();
  }
  cap.release();
  await stage.finish();
  return { tracks, stats: stage.counts };
}

describe('FacesStage', () => {
  it('finds face tracks with small grey crops in a real video (Megamind.avi)', async () => {
    const { tracks, stats } = await runVideo(join(OPENCV_DATA, 'Megamind.avi'), 160);
    expect(stats.detections).toBeGreaterThan(25);
    expect(tracks.length).toBeGreaterThanOrEqual(2);
    for (const t of tracks) {
      expect(t.crops.length).toBeGreaterThanOrEqual(4);
      expect(t.endTNs).toBeGreaterThan(t.startTNs);
      for (const c of t.crops) expect(c.pixels.length).toBe(CROP_SIDE * CROP_SIDE);
    }
    // A track spans many detector runs: detections are linked, not one track per frame.
    expect(Math.max(...tracks.map((t) => t.detections))).toBeGreaterThanOrEqual(15);
  }, 60_000);

  it('finds no face in the synthetic sample session scene and hands nothing on', async () => {
    const { tracks, stats } = await runVideo(join(SAMPLE, 'scene.mp4'), 60);
    expect(stats.detectorRuns).toBe(20);
    expect(tracks).toHaveLength(0);
  }, 60_000);

  it('refuses a cascade file that does not exist, naming it', () => {
    const config = facesConfigSchema.parse({ enabled: true, cascade: '/nope/cascade.xml' });
    expect(() => new FacesStage(config, () => {})).toThrow(/\/nope\/cascade\.xml/);
  });
});
