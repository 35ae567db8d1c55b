import { describe, expect, it } from 'vitest';
import type { FaceCrop } from '../../../pipelines/faces/crops.ts';
import { laplacianVariance, mirrorCorrelation } from '../../../pipelines/faces/crops.ts';
import type { Box } from '../../../pipelines/faces/detector.ts';
import { type Detection, FaceTracker } from '../../../pipelines/faces/tracker.ts';

const options = { minIou: 0.2, minAppearance: 0.3, maxMissed: 3, maxCrops: 4 };

/** A detection whose appearance is one of two distinct patterns (two people). */
function det(box: Box, person: 0 | 1, sharpness = 100): Detection {
  const thumb = new Float32Array(256).map((_, i) => (person === 0 ? i % 16 : Math.floor(i / 16)) * 10);
  const crop: FaceCrop = {
    tNs: 0n,
    box,
    pixels: new Uint8Array(64 * 64),
    quality: { sharpness, symmetry: 1, size: box[2] },
  };
  return { box, thumb, crop };
}

describe('FaceTracker', () => {
  it('keeps one track through a short occlusion and ends it after maxMissed empty runs', () => {
    const tracker = new FaceTracker(options);
    const ended = [];
    for (let i = 0; i < 10; i++) ended.push(...tracker.update(BigInt(i), [det([100 + i * 4, 50, 60, 60], 0)]));
    for (let i = 10; i < 13; i++) ended.push(...tracker.update(BigInt(i), [])); // hidden for 3 runs
    for (let i = 13; i < 20; i++) ended.push(...tracker.update(BigInt(i), [det([100 + i * 4, 50, 60, 60], 0)]));
    expect(ended).toHaveLength(0);
    for (let i = 20; i < 24; i++) ended.push(...tracker.update(BigInt(i), []));
    expect(ended).toHaveLength(1);
    expect(ended[0]?.detections).toBe(17);
    expect(ended[0]?.startTNs).toBe(0n);
    expect(ended[0]?.endTNs).toBe(19n);
    expect(ended[0]?.crops).toHaveLength(4); // bounded
  });

  it('does not swap two people who cross, thanks to appearance', () => {
    const tracker = new FaceTracker(options);
    for (let i = 0; i < 8; i++) {
      // A moves right, B moves left; at i = 4 their boxes overlap almost fully.
      tracker.update(BigInt(i), [det([100 + i * 10, 50, 60, 60], 0), det([180 - i * 10, 50, 60, 60], 1)]);
    }
    const tracks = tracker.flush();
    expect(tracks).toHaveLength(2);
    expect(tracks.map((t) => t.detections)).toEqual([8, 8]);
  });

  it('starts a new track for a face far from every live one', () => {
    const tracker = new FaceTracker(options);
    tracker.update(0n, [det([0, 0, 50, 50], 0)]);
    tracker.update(1n, [det([400, 300, 50, 50], 0)]);
    expect(tracker.liveCount).toBe(2);
  });

  it('keeps the sharpest crops in time order', () => {
    const tracker = new FaceTracker({ ...options, maxCrops: 2 });
    const sharp = [5, 50, 1, 40, 3];
    for (const [i, s] of sharp.entries()) tracker.update(BigInt(i), [det([10, 10, 50, 50], 0, s)]);
    const [track] = tracker.flush();
    expect(track?.crops.map((c) => c.quality.sharpness)).toEqual([50, 40]);
  });
});

describe('crop quality', () => {
  it('scores a blurred crop lower than a sharp one and a symmetric crop higher than a lopsided one', () => {
    const sharp = new Uint8Array(64 * 64).map((_, i) => ((((i % 64) >> 2) + (i >> 8)) % 2 === 0 ? 200 : 30));
    const flat = new Uint8Array(64 * 64).map((_, i) => 100 + (i % 64));
    expect(laplacianVariance(sharp, 64)).toBeGreaterThan(100 * laplacianVariance(flat, 64) + 1);
    const symmetric = new Uint8Array(64 * 64).map((_, i) => Math.abs((i % 64) - 31.5) * 4);
    const lopsided = new Uint8Array(64 * 64).map((_, i) => (i % 64) * 4);
    expect(mirrorCorrelation(symmetric, 64)).toBeGreaterThan(0.99);
    expect(mirrorCorrelation(lopsided, 64)).toBeLessThan(-0.9);
  });
});
