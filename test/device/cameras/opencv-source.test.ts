import { describe, expect, it } from 'vitest';
import { apiPreferenceFor, OpenCvCameraSource } from '../../../device/cameras/opencv-source.ts';
import type { Frame } from '../../../device/frames.ts';
import cv from '../../../device/opencv.ts';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

describe('OpenCvCameraSource', () => {
  it('delivers frames of the file with strictly increasing monotonic times and indices', async () => {
    const source = new OpenCvCameraSource({ stream: 'scene', uri: VTEST });
    const frames: Frame[] = [];
    const before = process.hrtime.bigint();
    for await (const frame of source.frames()) {
      frames.push(frame);
      if (frames.length === 30) break;
    }
    const after = process.hrtime.bigint();

    expect(frames.map((f) => f.index)).toEqual([...Array(30).keys()]);
    for (const f of frames) {
      expect([f.stream, f.width, f.height, f.mat.cols, f.mat.rows]).toEqual(['scene', 768, 576, 768, 576]);
    }
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i] as Frame).tNs > (frames[i - 1] as Frame).tNs).toBe(true);
    }
    expect((frames[0] as Frame).tNs > before && (frames.at(-1) as Frame).tNs < after).toBe(true);
    // Leaving the loop closes the source.
    expect(source.status()).toMatchObject({ state: 'ended', framesRead: 30, failures: 0 });
  });

  it("runs with the binding's GC-unsafe memory tracking off", () => {
    expect(cv.isCustomMatAllocatorEnabled()).toBe(false);
  });

  it('opens GStreamer pipelines with the GStreamer backend', () => {
    expect(apiPreferenceFor('videotestsrc ! videoconvert ! appsink')).toBe(cv.CAP_GSTREAMER);
    expect(apiPreferenceFor('/dev/video0')).toBe(cv.CAP_ANY);
    expect(apiPreferenceFor(0)).toBe(cv.CAP_ANY);
  });
});
