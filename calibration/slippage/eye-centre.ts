import type { PupilEllipse } from '../pupil/types.ts';

/** Where the eyeball's rotation centre projects into the eye image, and the eyeball's radius there. */
export interface EyeCentre {
  readonly x: number;
  readonly y: number;
  readonly radiusPx: number;
  /** Smallest eigenvalue of the weighted line-intersection system, per line: how well crossed the lines were. */
  readonly spread: number;
  readonly samples: number;
}

/** Below this the lines are too close to parallel (the eye barely moved) to place their crossing. */
export const MIN_SPREAD = 0.02;
const MAX_RATIO = 0.8;
const IRLS_ITERATIONS = 3;
const HUBER_PX = 2;

/**
 * The eyeball centre from pupil ellipses alone (after Świrski & Dodgson 2013, in 2D): the pupil is a disc facing
 * along the gaze, so its image's minor axis points along the projected gaze line, and every such line passes
 * through the projected eyeball centre. The centre is the weighted least-squares crossing of those lines, made
 * robust with a few Huber-reweighted passes. Nearly round ellipses say little about their axis and weigh little.
 * The radius follows from the foreshortening: |pupil - centre| = r·sin θ with minor/major = cos θ.
 */
export function estimateEyeCentre(all: readonly PupilEllipse[]): EyeCentre | null {
  // Noise and reflections make a round pupil look up to ~10% oval with an arbitrary axis: only clearly oval
  // pupils say where their axis points.
  const ellipses = binByPosition(all.filter((e) => e.minor <= MAX_RATIO * e.major));
  if (ellipses.length < 10) return null;
  const c = robustCrossing(minorAxisLines(ellipses, [0, 0]));
  if (c === null) return null;
  const radii: number[] = [];
  for (const e of ellipses) {
    const ratio = Math.min(1, e.minor / e.major);
    if (ratio < 0.92) radii.push(Math.hypot(e.cx - c.x, e.cy - c.y) / Math.sqrt(1 - ratio * ratio));
  }
  radii.sort((a, b) => a - b);
  const radiusPx = radii.length > 0 ? (radii[radii.length >> 1] as number) : Number.NaN;
  return { x: c.x, y: c.y, radiusPx, spread: c.spread, samples: ellipses.length };
}

const BIN_PX = 2;

/**
 * One averaged ellipse per small cell of pupil positions. A long fixation gives hundreds of near-identical
 * ellipses; if a reflection or a lid biases their axis, they would outvote everything else as one block. Binned,
 * each gaze direction is one vote, and a biased one is an outlier the reweighting can see.
 */
function binByPosition(ellipses: readonly PupilEllipse[]): PupilEllipse[] {
  const bins = new Map<number, { n: number; x: number; y: number; c2: number; s2: number; ratio: number }>();
  for (const e of ellipses) {
    const key = Math.round(e.cx / BIN_PX) * 4096 + Math.round(e.cy / BIN_PX);
    const b = bins.get(key) ?? { n: 0, x: 0, y: 0, c2: 0, s2: 0, ratio: 0 };
    const t = (2 * e.angleDeg * Math.PI) / 180; // axes are directions mod 180°: average the doubled angle
    b.n++;
    b.x += e.cx;
    b.y += e.cy;
    b.c2 += Math.cos(t);
    b.s2 += Math.sin(t);
    b.ratio += Math.min(1, e.minor / e.major);
    bins.set(key, b);
  }
  const out: PupilEllipse[] = [];
  for (const b of bins.values()) {
    const angleDeg = ((Math.atan2(b.s2, b.c2) * 180) / Math.PI / 2 + 180) % 180;
    out.push({ cx: b.x / b.n, cy: b.y / b.n, major: 1, minor: b.ratio / b.n, angleDeg });
  }
  return out;
}

/**
 * How far the eyeball centre has moved from `reference`, from recent pupil ellipses: the same line crossing,
 * pulled towards no movement by `ridge` (per unit weight). When the eye has looked in only a few directions the
 * lines barely cross and the crossing is uncertain along them; the pull keeps that uncertainty from showing up as
 * a phantom slip, while a real slip (seen by lines in several directions) still comes through.
 */
export function estimateCentreShift(
  all: readonly PupilEllipse[],
  reference: readonly [number, number],
  ridge: number,
): { dx: number; dy: number; spread: number; samples: number } | null {
  const ellipses = binByPosition(all.filter((e) => e.minor <= MAX_RATIO * e.major));
  if (ellipses.length < 10) return null;
  const c = robustCrossing(minorAxisLines(ellipses, reference), ridge);
  return c === null ? null : { dx: c.x, dy: c.y, spread: c.spread, samples: ellipses.length };
}

interface AxisLines {
  readonly px: Float64Array;
  readonly py: Float64Array;
  readonly dx: Float64Array;
  readonly dy: Float64Array;
  /** sin²θ of each ellipse: how clearly it shows its axis. */
  readonly w0: Float64Array;
}

/** Each ellipse's minor axis as a line through its centre (relative to `origin`): they meet at the eyeball centre. */
function minorAxisLines(ellipses: readonly PupilEllipse[], origin: readonly [number, number]): AxisLines {
  const n = ellipses.length;
  const lines = {
    px: new Float64Array(n),
    py: new Float64Array(n),
    dx: new Float64Array(n),
    dy: new Float64Array(n),
    w0: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const e = ellipses[i] as PupilEllipse;
    const t = ((e.angleDeg + 90) * Math.PI) / 180; // the minor axis
    lines.px[i] = e.cx - origin[0];
    lines.py[i] = e.cy - origin[1];
    lines.dx[i] = Math.cos(t);
    lines.dy[i] = Math.sin(t);
    const ratio = Math.min(1, e.minor / e.major);
    lines.w0[i] = 1 - ratio * ratio;
  }
  return lines;
}

/** The lines' crossing, re-weighted a few times with a Huber loss so that stray ellipses lose their pull. */
function robustCrossing(lines: AxisLines, ridge?: number): { x: number; y: number; spread: number } | null {
  const { px, py, dx, dy, w0 } = lines;
  const w = Float64Array.from(w0);
  let c: { x: number; y: number; spread: number } | null = null;
  for (let it = 0; it < IRLS_ITERATIONS; it++) {
    c = crossing(px, py, dx, dy, w, ridge);
    if (c === null) return null;
    for (let i = 0; i < px.length; i++) {
      const d = lineDistance(c.x, c.y, px[i] as number, py[i] as number, dx[i] as number, dy[i] as number);
      w[i] = (w0[i] as number) * (d <= HUBER_PX ? 1 : HUBER_PX / d);
    }
  }
  return c;
}

/** Weighted least-squares point nearest to all lines (p_i + t·d_i), optionally pulled towards the origin. */
function crossing(
  px: Float64Array,
  py: Float64Array,
  dx: Float64Array,
  dy: Float64Array,
  w: Float64Array,
  ridge = 0,
): { x: number; y: number; spread: number } | null {
  let a = 0;
  let b = 0;
  let d = 0;
  let bx = 0;
  let by = 0;
  let wSum = 0;
  for (let i = 0; i < px.length; i++) {
    const wi = w[i] as number;
    const ux = dx[i] as number;
    const uy = dy[i] as number;
    // N = I - u uᵀ projects onto the line's normal.
    const n00 = 1 - ux * ux;
    const n01 = -ux * uy;
    const n11 = 1 - uy * uy;
    a += wi * n00;
    b += wi * n01;
    d += wi * n11;
    bx += wi * (n00 * (px[i] as number) + n01 * (py[i] as number));
    by += wi * (n01 * (px[i] as number) + n11 * (py[i] as number));
    wSum += wi;
  }
  if (!(wSum > 0)) return null;
  const spread = ((a + d) / 2 - Math.hypot((a - d) / 2, b)) / wSum;
  a += ridge * wSum;
  d += ridge * wSum;
  const det = a * d - b * b;
  if (!(Math.abs(det) > 1e-12)) return null;
  return { x: (d * bx - b * by) / det, y: (a * by - b * bx) / det, spread };
}

function lineDistance(x: number, y: number, px: number, py: number, dx: number, dy: number): number {
  return Math.abs((x - px) * dy - (y - py) * dx);
}
