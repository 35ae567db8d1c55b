import { gradients, warpBilinear } from './filters.ts';
import { type Flow, type GreyImage, halve } from './image.ts';
import { flowWorkspace, type LevelBuffers } from './workspace.ts';

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
 * additive form), so it is built — and inverted — once per level. Both images must have the same size.
 *
 * Runs on every scene frame: all scratch planes come from a workspace kept per frame size, and the returned flow
 * is the only allocation (the caller may keep it).
 */
export function denseFlow(from: GreyImage, to: GreyImage, options: FlowOptions = DEFAULT_FLOW): Flow {
  if (from.width !== to.width || from.height !== to.height) {
    throw new Error(`flow needs equal sizes, got ${from.width}x${from.height} and ${to.width}x${to.height}`);
  }
  const levels = Math.max(1, Math.min(options.levels, maxLevels(from)));
  const ws = flowWorkspace(from.width, from.height, levels, options.radius, options.smoothRadius);
  const pyramidFrom = [from.data];
  const pyramidTo = [to.data];
  for (let l = 1; l < levels; l++) {
    const up = ws.levels[l - 1] as LevelBuffers;
    const level = ws.levels[l] as LevelBuffers;
    pyramidFrom.push(halve(pyramidFrom[l - 1] as Float32Array, up.width, up.height, level.from));
    pyramidTo.push(halve(pyramidTo[l - 1] as Float32Array, up.width, up.height, level.to));
  }
  const n = from.width * from.height;
  const flow: Flow = { width: from.width, height: from.height, dx: new Float32Array(n), dy: new Float32Array(n) };
  for (let l = levels - 1; l >= 0; l--) {
    const level = ws.levels[l] as LevelBuffers;
    const dx = l === 0 ? flow.dx : level.dx;
    const dy = l === 0 ? flow.dy : level.dy;
    if (l === levels - 1) {
      dx.fill(0);
      dy.fill(0);
    } else {
      upsample(ws.levels[l + 1] as LevelBuffers, level, dx, dy);
    }
    refine(level, pyramidFrom[l] as Float32Array, pyramidTo[l] as Float32Array, dx, dy, options);
  }
  return flow;
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

function refine(
  level: LevelBuffers,
  a: Float32Array,
  b: Float32Array,
  dx: Float32Array,
  dy: Float32Array,
  o: FlowOptions,
): void {
  const { width: w, height: h, gx, gy, ia, ib, ic, warped, bx, by } = level;
  const n = w * h;
  gradients(a, w, h, gx, gy);
  structureInverse(level, o.damping);
  for (let it = 0; it < o.iterations; it++) {
    warpBilinear(b, w, h, dx, dy, warped);
    for (let i = 0; i < n; i++) {
      const e = (warped[i] as number) - (a[i] as number);
      bx[i] = (gx[i] as number) * e;
      by[i] = (gy[i] as number) * e;
    }
    level.window.apply(bx, bx);
    level.window.apply(by, by);
    for (let i = 0; i < n; i++) {
      // δ = -S⁻¹ b
      const ex = bx[i] as number;
      const ey = by[i] as number;
      const off = ib[i] as number;
      dx[i] = (dx[i] as number) - ((ia[i] as number) * ex - off * ey);
      dy[i] = (dy[i] as number) - ((ic[i] as number) * ey - off * ex);
    }
  }
  if (level.smooth) {
    level.smooth.apply(dx, dx);
    level.smooth.apply(dy, dy);
  }
}

/**
 * The box-mean structure tensor S = (sxx + λ, sxy; sxy, syy + λ) of the level's gradients, stored inverted (up to
 * the sign of the off-diagonal) in ia, ib, ic: S⁻¹ = (ia, −ib; −ib, ic). det > 0 always thanks to the damping λ.
 */
function structureInverse(level: LevelBuffers, damping: number): void {
  const { width: w, height: h, gx, gy, ia, ib, ic } = level;
  const n = w * h;
  for (let i = 0; i < n; i++) {
    const x = gx[i] as number;
    const y = gy[i] as number;
    ia[i] = x * x;
    ib[i] = x * y;
    ic[i] = y * y;
  }
  level.window.apply(ia, ia);
  level.window.apply(ib, ib);
  level.window.apply(ic, ic);
  for (let i = 0; i < n; i++) {
    const xx = (ia[i] as number) + damping;
    const yy = (ic[i] as number) + damping;
    const xy = ib[i] as number;
    const inv = 1 / (xx * yy - xy * xy);
    ia[i] = yy * inv;
    ib[i] = xy * inv;
    ic[i] = xx * inv;
  }
}

/** Flow of the coarser level at the finer level's size: nearest sample, vectors scaled by the size ratio. */
function upsample(coarse: LevelBuffers, fine: LevelBuffers, ox: Float32Array, oy: Float32Array): void {
  const { width: W, height: H, coarseX, coarseY } = fine;
  const w = coarse.width;
  const sx = W / w;
  const sy = H / coarse.height;
  for (let y = 0; y < H; y++) {
    const src = (coarseY[y] as number) * w;
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const c = src + (coarseX[x] as number);
      ox[row + x] = (coarse.dx[c] as number) * sx;
      oy[row + x] = (coarse.dy[c] as number) * sy;
    }
  }
}
