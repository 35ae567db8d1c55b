import type { PupilEllipse } from './types.ts';

/**
 * Direct least-squares ellipse fit (Fitzgibbon, Pilu & Fisher 1999, in the numerically stable form of Halíř &
 * Flusser 1998) on points given as parallel arrays. It is ellipse-specific (never returns a hyperbola) and
 * closed-form, so a fit on 40 edge points costs a few microseconds in JS: far less than a round trip through
 * the OpenCV binding, which is why the detector fits here and calls OpenCV only to get at the pixels.
 */
export interface Conic {
  /** A x² + B xy + C y² + D x + E y + F = 0, in the original pixel coordinates. */
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly e: number;
  readonly f: number;
}

/** Fits the points whose indices are listed (all when omitted); null when degenerate. */
export function fitConic(xs: Float64Array, ys: Float64Array, n: number, pick?: Int32Array, m?: number): Conic | null {
  const count = pick ? (m ?? pick.length) : n;
  if (count < 5) return null;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < count; k++) {
    const i = pick ? (pick[k] as number) : k;
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= count;
  my /= count;
  let r2 = 0;
  for (let k = 0; k < count; k++) {
    const i = pick ? (pick[k] as number) : k;
    r2 += ((xs[i] as number) - mx) ** 2 + ((ys[i] as number) - my) ** 2;
  }
  const s = Math.sqrt(r2 / count / 2) || 1;
  // Scatter matrices S1 = D1ᵀD1, S2 = D1ᵀD2, S3 = D2ᵀD2 with D1 = [x², xy, y²], D2 = [x, y, 1] (normalised);
  // accumulated as the distinct power sums, which is all they contain.
  let x4 = 0,
    x3y = 0,
    x2y2 = 0,
    xy3 = 0,
    y4 = 0,
    x3 = 0,
    x2y = 0,
    xy2 = 0,
    y3 = 0,
    x2 = 0,
    xy = 0,
    y2 = 0,
    sx = 0,
    sy = 0;
  for (let k = 0; k < count; k++) {
    const i = pick ? (pick[k] as number) : k;
    const x = ((xs[i] as number) - mx) / s;
    const y = ((ys[i] as number) - my) / s;
    const xx = x * x;
    const yy = y * y;
    const xyv = x * y;
    x4 += xx * xx;
    x3y += xx * xyv;
    x2y2 += xx * yy;
    xy3 += xyv * yy;
    y4 += yy * yy;
    x3 += xx * x;
    x2y += xx * y;
    xy2 += x * yy;
    y3 += yy * y;
    x2 += xx;
    xy += xyv;
    y2 += yy;
    sx += x;
    sy += y;
  }
  const s1 = Float64Array.of(x4, x3y, x2y2, x3y, x2y2, xy3, x2y2, xy3, y4);
  const s2 = Float64Array.of(x3, x2y, x2, x2y, xy2, xy, xy2, y3, y2);
  const s3 = Float64Array.of(x2, xy, sx, xy, y2, sy, sx, sy, count);
  const s3inv = invert3(s3);
  if (s3inv === null) return null;
  // T = -S3⁻¹ S2ᵀ ; M = S1 + S2 T ; then premultiply by C1⁻¹ (the ellipse constraint 4ac - b² = 1).
  const t = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v -= (s3inv[r * 3 + k] as number) * (s2[c * 3 + k] as number);
      t[r * 3 + c] = v;
    }
  }
  const mm = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let v = s1[r * 3 + c] as number;
      for (let k = 0; k < 3; k++) v += (s2[r * 3 + k] as number) * (t[k * 3 + c] as number);
      mm[r * 3 + c] = v;
    }
  }
  const m2 = Float64Array.of(
    (mm[6] as number) / 2,
    (mm[7] as number) / 2,
    (mm[8] as number) / 2,
    -(mm[3] as number),
    -(mm[4] as number),
    -(mm[5] as number),
    (mm[0] as number) / 2,
    (mm[1] as number) / 2,
    (mm[2] as number) / 2,
  );
  const a1 = ellipseEigenvector(m2);
  if (a1 === null) return null;
  const a2 = [0, 0, 0].map(
    (_, r) => (t[r * 3] as number) * a1[0] + (t[r * 3 + 1] as number) * a1[1] + (t[r * 3 + 2] as number) * a1[2],
  );
  return denormalise(a1[0], a1[1], a1[2], a2[0] as number, a2[1] as number, a2[2] as number, mx, my, s);
}

/** Conic coefficients in normalised coordinates (x' = (x - mx)/s) back to pixels. */
function denormalise(
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
  mx: number,
  my: number,
  s: number,
): Conic {
  const A = a / (s * s);
  const B = b / (s * s);
  const C = c / (s * s);
  const D = d / s - 2 * A * mx - B * my;
  const E = e / s - 2 * C * my - B * mx;
  const F = f + A * mx * mx + B * mx * my + C * my * my - (d / s) * mx - (e / s) * my;
  return { a: A, b: B, c: C, d: D, e: E, f: F };
}

/** The eigenvector of the 3×3 matrix whose conic satisfies 4ac - b² > 0 (there is exactly one for real data). */
function ellipseEigenvector(m: Float64Array): [number, number, number] | null {
  let best: [number, number, number] | null = null;
  let bestCond = 0;
  for (const lambda of realEigenvalues(m)) {
    const v = nullVector(m, lambda);
    if (v === null) continue;
    const cond = 4 * v[0] * v[2] - v[1] * v[1];
    if (cond > bestCond) {
      bestCond = cond;
      best = v;
    }
  }
  return best;
}

function realEigenvalues(m: Float64Array): number[] {
  const [m0 = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0, m5 = 0, m6 = 0, m7 = 0, m8 = 0] = m;
  const tr = m0 + m4 + m8;
  const minors = m0 * m4 - m1 * m3 + m0 * m8 - m2 * m6 + m4 * m8 - m5 * m7;
  const det = m0 * (m4 * m8 - m5 * m7) - m1 * (m3 * m8 - m5 * m6) + m2 * (m3 * m7 - m4 * m6);
  return cubicRoots(-tr, minors, -det);
}

/** Real roots of x³ + p x² + q x + r. */
export function cubicRoots(p: number, q: number, r: number): number[] {
  const a = (3 * q - p * p) / 9;
  const b = (9 * p * q - 27 * r - 2 * p * p * p) / 54;
  const disc = a * a * a + b * b;
  const shift = -p / 3;
  if (disc > 0) {
    const sq = Math.sqrt(disc);
    return [Math.cbrt(b + sq) + Math.cbrt(b - sq) + shift];
  }
  const rho = Math.sqrt(-a * a * a) || 0;
  const theta = rho === 0 ? 0 : Math.acos(Math.max(-1, Math.min(1, b / rho)));
  const k = 2 * Math.sqrt(-a);
  return [0, 1, 2].map((j) => k * Math.cos((theta + 2 * Math.PI * j) / 3) + shift);
}

function nullVector(m: Float64Array, lambda: number): [number, number, number] | null {
  const r0 = [(m[0] as number) - lambda, m[1] as number, m[2] as number];
  const r1 = [m[3] as number, (m[4] as number) - lambda, m[5] as number];
  const r2 = [m[6] as number, m[7] as number, (m[8] as number) - lambda];
  let best: [number, number, number] | null = null;
  let bestNorm = 0;
  for (const [u, w] of [
    [r0, r1],
    [r0, r2],
    [r1, r2],
  ] as const) {
    const v: [number, number, number] = [
      (u[1] as number) * (w[2] as number) - (u[2] as number) * (w[1] as number),
      (u[2] as number) * (w[0] as number) - (u[0] as number) * (w[2] as number),
      (u[0] as number) * (w[1] as number) - (u[1] as number) * (w[0] as number),
    ];
    const norm = Math.hypot(v[0], v[1], v[2]);
    if (norm > bestNorm) {
      bestNorm = norm;
      best = v;
    }
  }
  return best;
}

function invert3(m: Float64Array): Float64Array | null {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0, i = 0] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) return null;
  const k = 1 / det;
  return Float64Array.of(
    A * k,
    -(b * i - c * h) * k,
    (b * f - c * e) * k,
    B * k,
    (a * i - c * g) * k,
    -(a * f - c * d) * k,
    C * k,
    -(a * h - b * g) * k,
    (a * e - b * d) * k,
  );
}

/** Centre, full axes and major-axis angle of a conic; null unless it is a real, finite ellipse. */
export function conicToEllipse(q: Conic): PupilEllipse | null {
  const det = q.b * q.b - 4 * q.a * q.c;
  if (!(det < 0)) return null;
  const cx = (2 * q.c * q.d - q.b * q.e) / det;
  const cy = (2 * q.a * q.e - q.b * q.d) / det;
  const fc = q.a * cx * cx + q.b * cx * cy + q.c * cy * cy + q.d * cx + q.e * cy + q.f;
  // Eigen-decomposition of the quadratic form [[a, b/2], [b/2, c]]: the smaller |λ| is the major axis.
  const mean = (q.a + q.c) / 2;
  const half = Math.hypot((q.a - q.c) / 2, q.b / 2);
  const l1 = mean - half;
  const l2 = mean + half;
  const [lMajor, lMinor] = Math.abs(l1) < Math.abs(l2) ? [l1, l2] : [l2, l1];
  const sMajor = -fc / lMajor;
  const sMinor = -fc / lMinor;
  if (!(sMajor > 0 && sMinor > 0) || !Number.isFinite(sMajor)) return null;
  // Eigenvector of λ_major: (b/2, λ - a), or (λ - c, b/2) when that one is degenerate.
  let vx = q.b / 2;
  let vy = lMajor - q.a;
  if (Math.hypot(vx, vy) < 1e-12 * (Math.abs(q.a) + Math.abs(q.c))) {
    vx = lMajor - q.c;
    vy = q.b / 2;
  }
  if (Math.hypot(vx, vy) === 0) [vx, vy] = [1, 0];
  let angle = (Math.atan2(vy, vx) * 180) / Math.PI;
  angle = ((angle % 180) + 180) % 180;
  return { cx, cy, major: 2 * Math.sqrt(sMajor), minor: 2 * Math.sqrt(sMinor), angleDeg: angle };
}

/** First-order (Sampson) distance of a point from the conic, in pixels. */
export function conicDistance(q: Conic, x: number, y: number): number {
  const v = q.a * x * x + q.b * x * y + q.c * y * y + q.d * x + q.e * y + q.f;
  const gx = 2 * q.a * x + q.b * y + q.d;
  const gy = q.b * x + 2 * q.c * y + q.e;
  const g = Math.hypot(gx, gy);
  return g > 0 ? Math.abs(v) / g : Number.POSITIVE_INFINITY;
}
