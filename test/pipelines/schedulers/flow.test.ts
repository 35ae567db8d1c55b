import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanEndpointError, zeroFlow } from '../../../pipelines/schedulers/flow/endpoint.ts';
import { denseFlow, type GreyImage, type LabelMap, warpLabels } from '../../../pipelines/schedulers/flow/index.ts';
import { farnebackPairs, type ReferencePair } from '../../../tools/bench/flow-reference.ts';

/** `img` moved by (sx, sy): out(x, y) = img(x - sx, y - sy), edges clamped. */
function shifted<T extends Float32Array | Uint8Array>(src: T, w: number, h: number, sx: number, sy: number): T {
  const out = src.slice() as T;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const xx = Math.min(w - 1, Math.max(0, x - sx));
      const yy = Math.min(h - 1, Math.max(0, y - sy));
      out[y * w + x] = src[yy * w + xx] as number;
    }
  }
  return out;
}

describe('dense flow against OpenCV Farneback on real frame pairs', () => {
  let dir: string;
  let pairs: ReferencePair[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'glance-farneback-'));
    pairs = farnebackPairs(dir, 1);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stays within 0.25 px mean endpoint difference, well below zero flow’s', () => {
    expect(pairs.map((p) => p.name)).toEqual(['basketball', 'rubberwhale', 'vtest0', 'vtest150', 'vtest300']);
    const ours = pairs.map((p) => meanEndpointError(denseFlow(p.a, p.b), p.farneback));
    const zero = pairs.map((p) => meanEndpointError(zeroFlow(p.a.width, p.a.height), p.farneback));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(ours)).toBeLessThan(0.25);
    expect(mean(ours)).toBeLessThan(0.85 * mean(zero));
  });

  it('recovers a known shift of a real image within half a pixel', () => {
    const p = pairs[0] as ReferencePair;
    const { width: w, height: h } = p.a;
    for (const [sx, sy] of [
      [3, 2],
      [-6, 4],
      [12, -5],
    ] as const) {
      const moved: GreyImage = { width: w, height: h, data: shifted(p.a.data, w, h, sx, sy) };
      const f = denseFlow(p.a, moved);
      let err = 0;
      let n = 0;
      for (let y = 20; y < h - 20; y++) {
        for (let x = 20; x < w - 20; x++) {
          err += Math.hypot((f.dx[y * w + x] as number) - sx, (f.dy[y * w + x] as number) - sy);
          n++;
        }
      }
      expect(err / n).toBeLessThan(0.5);
    }
  });

  it('warps a label map moved by a known shift back onto the moved labels', () => {
    const p = pairs[0] as ReferencePair;
    const { width: w, height: h } = p.a;
    const [sx, sy] = [7, -4];
    const labels = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if ((x - 60) ** 2 + (y - 50) ** 2 < 400) labels[y * w + x] = 1;
        else if (x > 95 && x < 140 && y > 60 && y < 100) labels[y * w + x] = 2;
      }
    }
    const key: LabelMap = { width: w, height: h, data: labels };
    const current: GreyImage = { width: w, height: h, data: shifted(p.a.data, w, h, sx, sy) };
    const truth = shifted(labels, w, h, sx, sy);
    const warped = warpLabels(key, denseFlow(current, p.a));
    const stale = warpLabels(key, zeroFlow(w, h));
    const agree = (m: LabelMap) => m.data.reduce((s, v, i) => s + (v === truth[i] ? 1 : 0), 0) / (w * h);
    expect(agree(warped)).toBeGreaterThan(0.99);
    expect(agree(stale)).toBeLessThan(0.97); // the shift matters, so the test could fail
    // A label map at twice the flow's size is warped with the flow scaled.
    const big = new Uint8Array(4 * w * h);
    for (let i = 0; i < big.length; i++)
      big[i] = labels[((((i / (2 * w)) | 0) >> 1) * w + ((i % (2 * w)) >> 1)) | 0] as number;
    const warpedBig = warpLabels({ width: 2 * w, height: 2 * h, data: big }, denseFlow(current, p.a));
    let ok = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) ok += warpedBig.data[2 * y * 2 * w + 2 * x] === truth[y * w + x] ? 1 : 0;
    expect(ok / (w * h)).toBeGreaterThan(0.98);
  });
});
