import { CoarseSearch } from './coarse-search.ts';
import { castRays, RayEdges, type RayParams, sample } from './edge-rays.ts';
import { RobustEllipseFitter } from './robust-ellipse.ts';
import { type GreyImage, NO_PUPIL, type PupilDetection, type PupilDetector, type PupilEllipse } from './types.ts';

export interface DarkPupilParams {
  /** Smallest and largest pupil diameter, as fractions of the image width. */
  readonly minDiameter: number;
  readonly maxDiameter: number;
  /** Rays cast from inside the pupil to find its edge. */
  readonly rays: number;
  /** Pupil-to-iris contrast (grey levels) below which there is no pupil to see. */
  readonly minContrast: number;
}

export const DARK_PUPIL_DEFAULTS: DarkPupilParams = { minDiameter: 0.06, maxDiameter: 0.25, rays: 32, minContrast: 12 };

/** Edge points further than this from the ellipse (px) do not support it. */
const TOLERANCE = 1.0;

/**
 * The classical dark-pupil detector: coarse centre-surround search, then two starburst passes (the second from
 * the first ellipse's centre with a threshold re-measured either side of the edge), each closed by a robust
 * ellipse fit. Confidence is the fraction of rays whose edge lies on the final ellipse, scaled down when the
 * pupil barely stands out from the iris: a lid over the pupil, a closed eye or a black frame all score low.
 * One instance per eye stream: it keeps scratch buffers between calls and is not re-entrant.
 */
export class DarkPupilDetector implements PupilDetector {
  readonly name = 'dark-pupil';
  private coarse: CoarseSearch | undefined;
  private coarseKey = '';
  private readonly edges: RayEdges;
  private readonly fitter: RobustEllipseFitter;
  private readonly scratch: Float64Array;

  constructor(private readonly params: DarkPupilParams = DARK_PUPIL_DEFAULTS) {
    this.edges = new RayEdges(params.rays);
    this.fitter = new RobustEllipseFitter(params.rays);
    this.scratch = new Float64Array(params.rays);
  }

  detect(img: GreyImage): PupilDetection {
    if (img.width < 16 || img.height < 16 || img.data.length < img.width * img.height) return NO_PUPIL;
    const { minContrast } = this.params;
    const coarse = this.coarseFor(img).search(img);
    if (!(coarse.contrast >= minContrast)) return NO_PUPIL;
    const seed = darkestNear(img, coarse.x, coarse.y, Math.ceil(coarse.core / 2));
    const minD = this.params.minDiameter * img.width;
    const maxD = this.params.maxDiameter * img.width;
    const plausible = (e: PupilEllipse) =>
      e.major <= maxD &&
      e.major >= minD * 0.5 &&
      e.minor >= 0.15 * e.major &&
      Math.hypot(e.cx - seed.x, e.cy - seed.y) < e.major;

    // Pass 1: a threshold nearer the darkest spot than the surround, which may be bright sclera: a threshold too
    // low only shrinks the first outline a little, one too high leaks into a dark iris and loses the pupil.
    const t1 = seed.level + 0.35 * (coarse.surroundMean - seed.level);
    const first = this.pass(img, seed.x, seed.y, t1, coarse.surroundMean, maxD, plausible);
    if (first === null) return NO_PUPIL;
    // Pass 2: from the first ellipse's centre, with pupil and iris grey measured along the rays.
    const pupilGrey = this.median(this.edges.inside);
    const irisGrey = this.median(this.edges.outside);
    const contrast = irisGrey - pupilGrey;
    if (!(contrast >= minContrast)) return NO_PUPIL;
    const second = this.pass(
      img,
      first.ellipse.cx,
      first.ellipse.cy,
      (pupilGrey + irisGrey) / 2,
      irisGrey,
      maxD,
      plausible,
      {
        a: first.ellipse.major / 2,
        b: first.ellipse.minor / 2,
        angleRad: (first.ellipse.angleDeg * Math.PI) / 180,
      },
    );
    // The second pass usually sees the edge better; when it does not (it started on a reflection), keep the first.
    const best = second !== null && second.inliers >= first.inliers * 0.9 ? second : first;
    // Rays that found no edge (a reflection sat on it) do not count against the ellipse, up to a quarter of them;
    // edges that miss it (a lid, a lash) do.
    const support = best.inliers / Math.max(best.edges, 0.75 * this.params.rays);
    const fill = darkFill(img, best.ellipse, (pupilGrey + irisGrey) / 2, glintLevel(irisGrey));
    // A pupil is dark all through (bar reflections on it); a tuft of lashes on a closed lid has an outline but
    // skin between the strokes.
    const solid = clamp01((fill - 0.4) / 0.3);
    const confidence = clamp01(support * clamp01(contrast / (3 * minContrast)) * solid);
    return { ellipse: best.ellipse, confidence, diameterPx: best.ellipse.major };
  }

  private pass(
    img: GreyImage,
    cx: number,
    cy: number,
    threshold: number,
    irisGrey: number,
    maxD: number,
    plausible: (e: PupilEllipse) => boolean,
    guide?: RayParams['guide'],
  ) {
    const contrast = Math.max(irisGrey - threshold, 1) * 2;
    castRays(
      img,
      cx,
      cy,
      {
        rays: this.params.rays,
        maxLength: maxD * 0.65,
        threshold,
        glint: glintLevel(irisGrey),
        hysteresis: 0.25 * contrast,
        ...(guide === undefined ? {} : { guide }),
      },
      this.edges,
    );
    const fit = this.fitter.fit(this.edges.xs, this.edges.ys, this.edges.n, TOLERANCE, plausible);
    return fit === null ? null : { ...fit, edges: this.edges.n };
  }

  /** Median of the first `edges.n` finite values (NaN when none). */
  private median(values: Float64Array): number {
    let m = 0;
    for (let i = 0; i < this.edges.n; i++) {
      const v = values[i] as number;
      if (!Number.isNaN(v)) this.scratch[m++] = v;
    }
    if (m === 0) return Number.NaN;
    const sorted = this.scratch.subarray(0, m).sort();
    return sorted[m >> 1] as number;
  }

  private coarseFor(img: GreyImage): CoarseSearch {
    const key = `${img.width}x${img.height}`;
    if (this.coarse === undefined || this.coarseKey !== key) {
      const core = (d: number) => (d * img.width * 0.6) / 2; // a box well inside the pupil
      this.coarse = new CoarseSearch(
        img.width,
        img.height,
        core(this.params.minDiameter),
        core(this.params.maxDiameter),
      );
      this.coarseKey = key;
    }
    return this.coarse;
  }
}

/** The darkest 3×3 mean within `radius` of (x, y): a ray origin safely inside the pupil, and the pupil's grey. */
function darkestNear(img: GreyImage, x: number, y: number, radius: number): { x: number; y: number; level: number } {
  let bx = Math.round(x);
  let by = Math.round(y);
  let best = Number.POSITIVE_INFINITY;
  const r = Math.max(1, radius);
  const w = img.width;
  const d = img.data;
  for (let yy = Math.max(1, by - r); yy <= Math.min(img.height - 2, Math.round(y) + r); yy++) {
    for (let xx = Math.max(1, Math.round(x) - r); xx <= Math.min(w - 2, Math.round(x) + r); xx++) {
      const i = yy * w + xx;
      const s =
        (d[i - w - 1] as number) +
        (d[i - w] as number) +
        (d[i - w + 1] as number) +
        (d[i - 1] as number) +
        (d[i] as number) +
        (d[i + 1] as number) +
        (d[i + w - 1] as number) +
        (d[i + w] as number) +
        (d[i + w + 1] as number);
      if (s < best) {
        best = s;
        bx = xx;
        by = yy;
      }
    }
  }
  return { x: bx, y: by, level: Number.isFinite(best) ? best / 9 : sample(img, x, y) };
}

const FILL_SCALES = [0.25, 0.5, 0.75];
const FILL_ANGLES = 12;
const FILL_COS = Array.from({ length: FILL_ANGLES }, (_, i) => Math.cos((2 * Math.PI * i) / FILL_ANGLES));
const FILL_SIN = Array.from({ length: FILL_ANGLES }, (_, i) => Math.sin((2 * Math.PI * i) / FILL_ANGLES));

/** Brighter than iris by this much is a corneal reflection. */
function glintLevel(irisGrey: number): number {
  return Math.max(irisGrey + 0.4 * (255 - irisGrey), irisGrey + 30);
}

/** Fraction of points spread over the ellipse's interior that are pupil (darker than `threshold`) or a reflection. */
function darkFill(img: GreyImage, e: PupilEllipse, threshold: number, glint: number): number {
  const t = (e.angleDeg * Math.PI) / 180;
  const ct = Math.cos(t);
  const st = Math.sin(t);
  const centre = sample(img, e.cx, e.cy);
  let dark = centre < threshold || centre >= glint ? 1 : 0;
  let total = 1;
  for (const s of FILL_SCALES) {
    const a = (e.major / 2) * s;
    const b = (e.minor / 2) * s;
    for (let i = 0; i < FILL_ANGLES; i++) {
      const u = a * (FILL_COS[i] as number);
      const v = b * (FILL_SIN[i] as number);
      const g = sample(img, e.cx + u * ct - v * st, e.cy + u * st + v * ct);
      if (Number.isNaN(g)) continue;
      total++;
      if (g < threshold || g >= glint) dark++;
    }
  }
  return dark / total;
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
