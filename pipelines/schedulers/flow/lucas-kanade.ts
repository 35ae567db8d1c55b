import { boxMean, gradients, warpBilinear } from './filters.ts';
import { type Flow, type GreyImage, pyramid } from './image.ts';

export interface FlowOptions {
  /** Pyramid levels; the coarsest is width / 2^(levels-1). 4 at 160 px follows ~±25 px of motion. */
  readonly levels: number;
  /** Gauss–Newton steps per level. */
  readonly iterations: number;
  /** Half-size of the Lucas–Kanade window (the box over which the 2x2 normal equations are summed). */
  readonly radius: number;
  /** Tikhonov term added to the box-mean structure tensor (grey-level²): weakly textured windows move less. */
  readonly damping: number;
  /** Half-size of the box that smooths the flow after each level (a cheap stand-in for a robust prior). */
  readonly smoothRadius: number;
}

export const DEFAULT_FLOW: FlowOptions = { levels: 4, iterations: 3, radius: 4, damping: 50, smoothRadius: 3 };

/**
 * Dense pyramidal Lucas–Kanade: `from(p) ≈ to(p + flow(p))`, coarse to fine. Per level and iteration: warp `to`
 * by the current flow, and solve, at every pixel, the 2x2 normal equations of the brightness-constancy residual
 * summed over a box window (box sums are O(1) per pixel). The structure tensor uses `from`'s gradients (inverse
 * additive form), so it is built once per level. Both images must have the same size.
 */
export function denseFlow(from: GreyImage, to: GreyImage, options: FlowOptions = DEFAULT_FLOW): Flow {
  if (from.width !== to.width || from.height !== to.height) {
    throw new Error(`flow needs equal sizes, got ${from.width}x${from.height} and ${to.width}x${to.height}`);
  }
  const levels = Math.max(1, Math.min(options.levels, maxLevels(from)));
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
      [dx, dy] = upsample(dx, dy, (pf[l + 1] as GreyImage).width, (pf[l + 1] as GreyImage).height, a.width, a.height);
    }
    refine(a, b, dx, dy, options);
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

function refine(a: GreyImage, b: GreyImage, dx: Float32Array, dy: Float32Array, o: FlowOptions): void {
  const { width: w, height: h } = a;
  const n = w * h;
  const { gx, gy } = gradients(a.data, w, h);
  const sxx = boxMean(mul(gx, gx), w, h, o.radius, new Float32Array(n));
  const sxy = boxMean(mul(gx, gy), w, h, o.radius, new Float32Array(n));
  const syy = boxMean(mul(gy, gy), w, h, o.radius, new Float32Array(n));
  const warped = new Float32Array(n);
  const bx = new Float32Array(n);
  const by = new Float32Array(n);
  for (let it = 0; it < o.iterations; it++) {
    warpBilinear(b.data, w, h, dx, dy, warped);
    for (let i = 0; i < n; i++) {
      const e = (warped[i] as number) - (a.data[i] as number);
      bx[i] = (gx[i] as number) * e;
      by[i] = (gy[i] as number) * e;
    }
    boxMean(bx, w, h, o.radius, bx);
    boxMean(by, w, h, o.radius, by);
    for (let i = 0; i < n; i++) {
      const xx = (sxx[i] as number) + o.damping;
      const yy = (syy[i] as number) + o.damping;
      const xy = sxy[i] as number;
      const det = xx * yy - xy * xy;
      // δ = -S⁻¹ b; det > 0 always thanks to the damping.
      dx[i] = (dx[i] as number) - (yy * (bx[i] as number) - xy * (by[i] as number)) / det;
      dy[i] = (dy[i] as number) - (xx * (by[i] as number) - xy * (bx[i] as number)) / det;
    }
  }
  if (o.smoothRadius > 0) {
    boxMean(dx, w, h, o.smoothRadius, dx);
    boxMean(dy, w, h, o.smoothRadius, dy);
  }
}

function mul(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) * (b[i] as number);
  return out;
}

/** Flow of a coarser level at a finer size: nearest sample, vectors scaled by the size ratio. */
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
