import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameDeviation } from '../../../pipelines/schedulers/deviation.ts';
import { denseFlow, type Flow, type GreyImage } from '../../../pipelines/schedulers/flow/index.ts';
import { farnebackPairs, type ReferencePair } from '../../../tools/bench/flow-reference.ts';

/*
 * The dense flow as it was before it was made fast (commit 844d4dc, pipelines/schedulers/flow/), kept here and only
 * here: keyframe@1.0.0 was trained on features computed by this code, so the optimised flow must reproduce it.
 */
const LEVELS = 4;
const ITERATIONS = 3;
const RADIUS = 4;
const DAMPING = 50;
const SMOOTH = 3;

function boxMean(src: Float32Array, w: number, h: number, r: number, out: Float32Array): Float32Array {
  const tmp = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[row + x] as number;
    for (let x = 0; x < w; x++) {
      const lo = Math.max(0, x - r);
      const hi = Math.min(w - 1, x + r);
      tmp[row + x] = sum / (hi - lo + 1);
      const add = x + r + 1;
      const drop = x - r;
      if (add < w) sum += src[row + add] as number;
      if (drop >= 0) sum -= src[row + drop] as number;
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += tmp[y * w + x] as number;
    for (let y = 0; y < h; y++) {
      const lo = Math.max(0, y - r);
      const hi = Math.min(h - 1, y + r);
      out[y * w + x] = sum / (hi - lo + 1);
      const add = y + r + 1;
      const drop = y - r;
      if (add < h) sum += tmp[add * w + x] as number;
      if (drop >= 0) sum -= tmp[drop * w + x] as number;
    }
  }
  return out;
}

function gradients(src: Float32Array, w: number, h: number): { gx: Float32Array; gy: Float32Array } {
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const ym = y > 0 ? y - 1 : y;
    const yp = y < h - 1 ? y + 1 : y;
    for (let x = 0; x < w; x++) {
      const xm = x > 0 ? x - 1 : x;
      const xp = x < w - 1 ? x + 1 : x;
      const i = y * w + x;
      gx[i] = ((src[y * w + xp] as number) - (src[y * w + xm] as number)) / (xp - xm || 1);
      gy[i] = ((src[yp * w + x] as number) - (src[ym * w + x] as number)) / (yp - ym || 1);
    }
  }
  return { gx, gy };
}

function warpBilinear(
  src: Float32Array,
  w: number,
  h: number,
  dx: Float32Array,
  dy: Float32Array,
  out: Float32Array,
): Float32Array {
  const maxX = w - 1;
  const maxY = h - 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let sx = x + (dx[i] as number);
      let sy = y + (dy[i] as number);
      sx = sx < 0 ? 0 : Math.min(sx, maxX);
      sy = sy < 0 ? 0 : Math.min(sy, maxY);
      const x0 = Math.min(sx | 0, Math.max(maxX - 1, 0));
      const y0 = Math.min(sy | 0, Math.max(maxY - 1, 0));
      const fx = sx - x0;
      const fy = sy - y0;
      const a = y0 * w + x0;
      const top = (src[a] as number) + fx * ((src[a + 1] as number) - (src[a] as number));
      const bottom = (src[a + w] as number) + fx * ((src[a + w + 1] as number) - (src[a + w] as number));
      out[i] = top + fy * (bottom - top);
    }
  }
  return out;
}

function halve(img: GreyImage): GreyImage {
  const w = img.width >> 1;
  const h = img.height >> 1;
  const out = new Float32Array(w * h);
  const src = img.data;
  const sw = img.width;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * sw;
    const r1 = r0 + sw;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      out[y * w + x] =
        0.25 *
        ((src[r0 + c] as number) + (src[r0 + c + 1] as number) + (src[r1 + c] as number) + (src[r1 + c + 1] as number));
    }
  }
  return { width: w, height: h, data: out };
}

function pyramid(img: GreyImage, levels: number): GreyImage[] {
  const out = [img];
  for (let i = 1; i < levels; i++) out.push(halve(out[i - 1] as GreyImage));
  return out;
}

function denseFlowOld(from: GreyImage, to: GreyImage): Flow {
  const levels = Math.max(1, Math.min(LEVELS, maxLevels(from)));
  const pf = pyramid(from, levels);
  const pt = pyramid(to, levels);
  let dx: Float32Array = new Float32Array(0);
  let dy: Float32Array = new Float32Array(0);
  for (let l = levels - 1; l >= 0; l--) {
    const a = pf[l] as GreyImage;
    const b = pt[l] as GreyImage;
    if (l === levels - 1) {
      dx = new Float32Array(a.width * a.height);
      dy = new Float32Array(a.width * a.height);
    } else {
      const c = pf[l + 1] as GreyImage;
      [dx, dy] = upsample(dx, dy, c.width, c.height, a.width, a.height);
    }
    refine(a, b, dx, dy);
  }
  return { width: from.width, height: from.height, dx, dy };
}

function maxLevels(img: GreyImage): number {
  let n = 1;
  let w = img.width;
  let h = img.height;
  while (w >= 24 && h >= 24) {
    w >>= 1;
    h >>= 1;
    n++;
  }
  return n;
}

function refine(a: GreyImage, b: GreyImage, dx: Float32Array, dy: Float32Array): void {
  const { width: w, height: h } = a;
  const n = w * h;
  const { gx, gy } = gradients(a.data, w, h);
  const sxx = boxMean(mul(gx, gx), w, h, RADIUS, new Float32Array(n));
  const sxy = boxMean(mul(gx, gy), w, h, RADIUS, new Float32Array(n));
  const syy = boxMean(mul(gy, gy), w, h, RADIUS, new Float32Array(n));
  const warped = new Float32Array(n);
  const bx = new Float32Array(n);
  const by = new Float32Array(n);
  for (let it = 0; it < ITERATIONS; it++) {
    warpBilinear(b.data, w, h, dx, dy, warped);
    for (let i = 0; i < n; i++) {
      const e = (warped[i] as number) - (a.data[i] as number);
      bx[i] = (gx[i] as number) * e;
      by[i] = (gy[i] as number) * e;
    }
    boxMean(bx, w, h, RADIUS, bx);
    boxMean(by, w, h, RADIUS, by);
    for (let i = 0; i < n; i++) {
      const xx = (sxx[i] as number) + DAMPING;
      const yy = (syy[i] as number) + DAMPING;
      const xy = sxy[i] as number;
      const det = xx * yy - xy * xy;
      dx[i] = (dx[i] as number) - (yy * (bx[i] as number) - xy * (by[i] as number)) / det;
      dy[i] = (dy[i] as number) - (xx * (by[i] as number) - xy * (bx[i] as number)) / det;
    }
  }
  boxMean(dx, w, h, SMOOTH, dx);
  boxMean(dy, w, h, SMOOTH, dy);
}

function mul(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) * (b[i] as number);
  return out;
}

function upsample(
  dx: Float32Array,
  dy: Float32Array,
  w: number,
  h: number,
  W: number,
  H: number,
): [Float32Array, Float32Array] {
  const ox = new Float32Array(W * H);
  const oy = new Float32Array(W * H);
  const sx = W / w;
  const sy = H / h;
  for (let y = 0; y < H; y++) {
    const yc = Math.min(h - 1, Math.floor(y / sy));
    for (let x = 0; x < W; x++) {
      const xc = Math.min(w - 1, Math.floor(x / sx));
      ox[y * W + x] = (dx[yc * w + xc] as number) * sx;
      oy[y * W + x] = (dy[yc * w + xc] as number) * sy;
    }
  }
  return [ox, oy];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** `img` moved by (sx, sy), edges clamped: a pair with real texture and large motion. */
function shifted(img: GreyImage, sx: number, sy: number): GreyImage {
  const { width: w, height: h } = img;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[y * w + x] = img.data[
        Math.min(h - 1, Math.max(0, y - sy)) * w + Math.min(w - 1, Math.max(0, x - sx))
      ] as number;
    }
  }
  return { width: w, height: h, data: out };
}

describe('the optimised dense flow reproduces the implementation keyframe@1.0.0 was trained on', () => {
  let dir: string;
  let pairs: ReferencePair[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'glance-flow-parity-'));
    pairs = farnebackPairs(dir, 1);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same flow within 1e-4 px on real frame pairs, both directions and shifted', () => {
    const cases: [string, GreyImage, GreyImage][] = [];
    for (const p of pairs) {
      cases.push([p.name, p.a, p.b], [`${p.name} reversed`, p.b, p.a]);
    }
    const base = pairs[0] as ReferencePair;
    cases.push(['basketball shifted (12, -5)', base.a, shifted(base.a, 12, -5)]);
    // An odd size (a pyramid level drops a column) and a second size in the same process (the workspace cache).
    const odd = (img: GreyImage): GreyImage => {
      const w = 123;
      const h = 77;
      const data = new Float32Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = img.data[y * img.width + x] as number;
      return { width: w, height: h, data };
    };
    cases.push(['rubberwhale cropped 123x77', odd((pairs[1] as ReferencePair).a), odd((pairs[1] as ReferencePair).b)]);
    let worst = 0;
    let moving = 0;
    for (const [name, a, b] of cases) {
      const fast = denseFlow(a, b);
      const old = denseFlowOld(a, b);
      expect([fast.width, fast.height], name).toEqual([old.width, old.height]);
      const d = Math.max(maxAbsDiff(fast.dx, old.dx), maxAbsDiff(fast.dy, old.dy));
      expect(d, name).toBeLessThan(1e-4);
      worst = Math.max(worst, d);
      moving = Math.max(moving, maxAbsDiff(old.dx, new Float32Array(old.dx.length)));
    }
    // The comparison means something: the flows are far from zero.
    expect(moving).toBeGreaterThan(1);
    expect(worst).toBeLessThan(1e-4);
  });

  it('gives the same deviation features (the policy state) within float rounding', () => {
    for (const p of pairs) {
      const fast = denseFlow(p.a, p.b);
      const oldFlow = denseFlowOld(p.a, p.b);
      const now = frameDeviation(p.a, p.b, fast);
      const then = frameDeviation(p.a, p.b, oldFlow);
      for (const k of Object.keys(then) as (keyof typeof then)[]) {
        expect(Math.abs(now[k] - then[k]), `${p.name} ${k}`).toBeLessThan(1e-4);
      }
    }
  });

  it('returns a flow of its own on every call (a decision may keep it while the next frame is computed)', () => {
    const p = pairs[0] as ReferencePair;
    const first = denseFlow(p.a, p.b);
    const kept = first.dx.slice();
    denseFlow(p.b, p.a);
    expect(maxAbsDiff(first.dx, kept)).toBe(0);
  });
});
