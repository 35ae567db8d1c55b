import type { GreyImage } from './types.ts';

/** Edge points found along rays cast from a point inside the pupil, with the grey levels either side. */
export class RayEdges {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  n = 0;
  /** Per ray that found an edge: mean grey just inside and just outside it. */
  readonly inside: Float64Array;
  readonly outside: Float64Array;

  constructor(readonly capacity: number) {
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
    this.inside = new Float64Array(capacity);
    this.outside = new Float64Array(capacity);
  }
}

export interface RayParams {
  readonly rays: number;
  readonly maxLength: number;
  /** Grey level of the pupil boundary: halfway between pupil and iris, where a blurred edge crosses. */
  readonly threshold: number;
  /** Brighter than this is a corneal reflection, not iris. */
  readonly glint: number;
  /** How far below the threshold the level must fall again for a bright run to count as a glint on the pupil. */
  readonly hysteresis: number;
  /**
   * A previous estimate of the outline: each ray then starts at 60% of its radius in that direction, clear of
   * reflections near the centre, and ends at twice it.
   */
  readonly guide?: { readonly a: number; readonly b: number; readonly angleRad: number };
}

const STEP = 0.75;
/** A reflection is a few pixels across: a bright run shorter than this that turns dark again is on the pupil. */
const GLINT_SPAN = 12;
/** How far past a crossing a reflection's core shows up (its rim rises through the threshold before it). */
const BRIGHT_CHECK = 3;
const OUTSIDE_SPAN = 4;

/**
 * Starburst edge search (Li, Winfield & Parkhurst 2005) with sub-pixel crossings: each ray walks outwards from
 * (cx, cy) and stops where the grey level first rises through the threshold and stays above it. A reflection on
 * the pupil is crossed (it turns dark again); a reflection sitting on the boundary makes the crossing unreliable,
 * so that ray gives no edge rather than a wrong one. Lids and lashes still produce wrong edges: the robust
 * ellipse fit discards those.
 */
export function castRays(img: GreyImage, cx: number, cy: number, p: RayParams, out: RayEdges): void {
  out.n = 0;
  const g = p.guide;
  for (let r = 0; r < p.rays; r++) {
    const theta = (2 * Math.PI * (r + 0.5)) / p.rays;
    const dx = Math.cos(theta) * STEP;
    const dy = Math.sin(theta) * STEP;
    let k = 0;
    let steps = Math.floor(p.maxLength / STEP);
    if (g !== undefined) {
      const u = theta - g.angleRad;
      const radius = (g.a * g.b) / Math.hypot(g.b * Math.cos(u), g.a * Math.sin(u));
      k = Math.floor((0.6 * radius) / STEP);
      steps = Math.min(steps, Math.ceil((2 * radius) / STEP));
    }
    const lim = steps + Math.ceil((GLINT_SPAN + OUTSIDE_SPAN) / STEP) + 1;
    let prev = sample(img, cx + dx * k, cy + dy * k);
    let insideSum = 0;
    let insideN = 0;
    k++;
    let edge = -1;
    if (prev >= p.threshold) {
      // Starting on a reflection: walk off it first.
      const dark = p.threshold - p.hysteresis;
      const start = k;
      while (k <= steps && !(sample(img, cx + dx * k, cy + dy * k) < dark)) k++;
      if ((k - start) * STEP > GLINT_SPAN || k > steps) continue;
      prev = p.threshold - 1;
    }
    while (k <= steps) {
      const v = sample(img, cx + dx * k, cy + dy * k);
      if (Number.isNaN(v)) break;
      if (v >= p.threshold && prev < p.threshold) {
        const verdict = afterCrossing(img, cx, cy, dx, dy, k, lim, p);
        if (verdict === 'edge') {
          edge = k - 1 + (p.threshold - prev) / (v - prev);
          break;
        }
        if (verdict === 'reject') break;
        k += verdict; // a glint inside the pupil: skip past it
        prev = p.threshold - 1;
        continue;
      }
      if (v < p.threshold) {
        insideSum += v;
        insideN++;
      }
      prev = v;
      k++;
    }
    if (edge < 0) continue;
    const i = out.n++;
    out.xs[i] = cx + dx * edge;
    out.ys[i] = cy + dy * edge;
    out.inside[i] = insideN > 0 ? insideSum / insideN : Number.NaN;
    let outSum = 0;
    let outN = 0;
    for (let j = Math.ceil(edge + 1.5 / STEP); j <= edge + (1.5 + OUTSIDE_SPAN) / STEP; j++) {
      const v = sample(img, cx + dx * j, cy + dy * j);
      if (!Number.isNaN(v)) {
        outSum += v;
        outN++;
      }
    }
    out.outside[i] = outN > 0 ? outSum / outN : Number.NaN;
  }
}

/**
 * 'edge', 'reject', or how many steps to skip over a reflection inside the pupil. Beyond a true edge lies iris:
 * no brighter than the glint level for the next few pixels. Beyond a reflection's rim the level keeps rising;
 * if it falls back to pupil grey within a reflection's width the reflection is on the pupil and the walk goes
 * on past it, otherwise it sits on the boundary and this ray gives no edge rather than a wrong one.
 */
function afterCrossing(
  img: GreyImage,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
  k: number,
  lim: number,
  p: RayParams,
): 'edge' | 'reject' | number {
  const near = k + Math.ceil(BRIGHT_CHECK / STEP);
  const span = Math.ceil(GLINT_SPAN / STEP);
  const dark = p.threshold - p.hysteresis;
  let sawGlint = false;
  for (let j = k; j <= Math.min(k + span, lim); j++) {
    const v = sample(img, cx + dx * j, cy + dy * j);
    if (Number.isNaN(v)) break;
    if (v >= p.glint) sawGlint = true;
    else if (sawGlint && v < dark) return j - k + 1;
    if (j >= near && !sawGlint) return 'edge';
  }
  return sawGlint ? 'reject' : 'edge';
}

/** Bilinear grey level at (x, y), NaN outside the image. */
export function sample(img: GreyImage, x: number, y: number): number {
  if (x < 0 || y < 0 || x > img.width - 1 || y > img.height - 1) return Number.NaN;
  const x0 = Math.min(Math.floor(x), img.width - 2);
  const y0 = Math.min(Math.floor(y), img.height - 2);
  const fx = x - x0;
  const fy = y - y0;
  const i = y0 * img.width + x0;
  const d = img.data;
  const a = d[i] as number;
  const b = d[i + 1] as number;
  const c = d[i + img.width] as number;
  const e = d[i + img.width + 1] as number;
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + e) * fx * fy;
}
