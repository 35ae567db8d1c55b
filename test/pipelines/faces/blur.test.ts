import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import cv from '../../../device/opencv.ts';
import { blurFacesInVideo } from '../../../pipelines/faces/blur.ts';
import { FaceDetector } from '../../../pipelines/faces/detector.ts';
import { OPENCV_DATA, tmp } from '../../helpers/cli.ts';

const HAAR = '/usr/share/opencv4/haarcascades';

/** A snippet made of real frames with faces: the first `n` frames of Megamind.avi, re-encoded as the recorder does. */
function megamindSnippet(path: string, n: number): void {
  const cap = new cv.VideoCapture(join(OPENCV_DATA, 'Megamind.avi'));
  const writer = new cv.VideoWriter(path, cv.VideoWriter.fourcc('avc1'), 24, new cv.Size(720, 528));
  for (let i = 0, m = cap.read(); i < n && !m.empty; i++, m = cap.read()) {
    writer.write(m);
    m.release();
  }
  writer.release();
  cap.release();
}

/** Faces in every frame by two cascades at a lower bar than the blur pass's own detector. */
function countFaces(path: string): number {
  const detectors = ['haarcascade_frontalface_default.xml', 'haarcascade_frontalface_alt2.xml'].map(
    (c) => new FaceDetector({ cascade: join(HAAR, c), detectWidth: 480, minSize: 30, minNeighbors: 3 }),
  );
  const cap = new cv.VideoCapture(path);
  let faces = 0;
  for (let m = cap.read(); !m.empty; m = cap.read()) {
    for (const d of detectors) faces += d.detect(m).length;
    m.release();
  }
  cap.release();
  return faces;
}

/** What the sync path uses (device/privacy.ts): two cascades at a lower bar than the faces stage. */
function privacyDetectors(): FaceDetector[] {
  return ['haarcascade_frontalface_default.xml', 'haarcascade_frontalface_alt2.xml'].map(
    (c) => new FaceDetector({ cascade: join(HAAR, c), detectWidth: 480, minSize: 24, minNeighbors: 2 }),
  );
}

describe('blurFacesInVideo', () => {
  it('leaves no detectable face of a non-enrolled person in a snippet made from real video', async () => {
    const dir = tmp('glance-blur-');
    const src = join(dir, 'snippet.mp4');
    const dst = join(dir, 'snippet.blurred.mp4');
    megamindSnippet(src, 24);
    const before = countFaces(src);
    expect(before).toBeGreaterThan(10); // the snippet really shows faces
    const detectors = privacyDetectors();
    const report = await blurFacesInVideo(src, dst, { detectors });
    expect(report.frames).toBe(24);
    expect(report.tracks).toBeGreaterThanOrEqual(1);
    expect(countFaces(dst)).toBe(0);
  }, 300_000);

  it('keeps the faces of enrolled people', async () => {
    const dir = tmp('glance-blur-');
    const src = join(dir, 'snippet.mp4');
    const dst = join(dir, 'kept.mp4');
    megamindSnippet(src, 12);
    const detectors = privacyDetectors();
    const report = await blurFacesInVideo(src, dst, { detectors, enrolled: async () => true });
    expect(report.facesBlurred).toBe(0);
    expect(report.tracksKept).toBe(report.tracks);
    expect(countFaces(dst)).toBeGreaterThan(0);
  }, 300_000);
});
