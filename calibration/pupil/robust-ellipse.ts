import { type Conic, conicDistance, conicToEllipse, fitConic } from './ellipse-fit.ts';
import type { PupilEllipse } from './types.ts';

export interface RobustEllipse {
  readonly conic: Conic;
  readonly ellipse: PupilEllipse;
  /** Points within `tolerance` of the final ellipse. */
  readonly inliers: number;
}

const SAMPLE = 6;
const ITERATIONS = 24;

/**
 * An ellipse through edge points of which some lie on a lid, a lash or a reflection instead of the pupil.
 * The common case (nearly all points agree) costs two least-squares fits; only when many points disagree does
 * it run a small RANSAC with a fixed seed, so the same frame always gives the same answer.
 */
export class RobustEllipseFitter {
  private readonly pick: Int32Array;
  private readonly sampleIdx = new Int32Array(SAMPLE);
  private seed = 0x9e3779b9;

  constructor(capacity: number) {
    this.pick = new Int32Array(capacity);
  }

  fit(
    xs: Float64Array,
    ys: Float64Array,
    n: number,
    tolerance: number,
    plausible: (e: PupilEllipse) => boolean,
  ): RobustEllipse | null {
    if (n < 5) return null;
    let best = this.refine(xs, ys, n, fitConic(xs, ys, n), tolerance, plausible);
    if ((best !== null && best.inliers >= 0.8 * n) || n < 2 * SAMPLE) return best;
    this.seed = 0x9e3779b9;
    for (let it = 0; it < ITERATIONS; it++) {
      this.drawSample(n);
      const q = fitConic(xs, ys, n, this.sampleIdx, SAMPLE);
      const candidate = this.refine(xs, ys, n, q, tolerance, plausible);
      if (candidate !== null && (best === null || candidate.inliers > best.inliers)) best = candidate;
      if (best !== null && best.inliers >= 0.8 * n) break;
    }
    return best;
  }

  /** Keep the points near `q`, refit on them, and count the final support. */
  private refine(
    xs: Float64Array,
    ys: Float64Array,
    n: number,
    q: Conic | null,
    tolerance: number,
    plausible: (e: PupilEllipse) => boolean,
  ): RobustEllipse | null {
    if (q === null) return null;
    const first = conicToEllipse(q);
    if (first === null || !plausible(first)) return null;
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (conicDistance(q, xs[i] as number, ys[i] as number) <= 2 * tolerance) this.pick[m++] = i;
    }
    const q2 = m >= 5 ? fitConic(xs, ys, n, this.pick, m) : null;
    const ellipse = q2 ? conicToEllipse(q2) : null;
    if (q2 === null || ellipse === null || !plausible(ellipse)) return null;
    let inliers = 0;
    for (let i = 0; i < n; i++) if (conicDistance(q2, xs[i] as number, ys[i] as number) <= tolerance) inliers++;
    return { conic: q2, ellipse, inliers };
  }

  /** SAMPLE distinct indices below n from a xorshift stream. */
  private drawSample(n: number): void {
    let k = 0;
    while (k < SAMPLE) {
      let s = this.seed;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      this.seed = s >>> 0;
      const idx = this.seed % n;
      let dup = false;
      for (let j = 0; j < k; j++) if (this.sampleIdx[j] === idx) dup = true;
      if (!dup) this.sampleIdx[k++] = idx;
    }
  }
}
