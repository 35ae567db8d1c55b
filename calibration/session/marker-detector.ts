import cv, { type Mat } from '../../device/opencv.ts';

/** A calibration marker found in a scene frame: its centre in scene pixels. */
export interface MarkerDetection {
  readonly x: number;
  readonly y: number;
  /** Radius of the outermost ring found, scene px. */
  readonly radiusPx: number;
  /** Concentric ring edges that agree on the centre. */
  readonly rings: number;
}

interface Circle {
  readonly x: number;
  readonly y: number;
  readonly r: number;
}

const MIN_RINGS = 3;
/** Ring edges belong to one marker when their centres agree to this fraction of the smaller radius. */
const CENTRE_TOLERANCE = 0.2;

/**
 * Finds Pupil Labs' concentric-ring calibration marker (black and white rings on a white card). At half
 * resolution a local-mean threshold separates the rings from whatever is behind them, every compact round
 * contour is fitted with an ellipse, and the marker is the largest family of ellipses that share a centre: nothing
 * else in a room makes three or more nested ring edges, so no template or training is needed.
 */
export function detectMarker(scene: Mat): MarkerDetection | null {
  const grey = scene.channels === 1 ? scene : scene.cvtColor(cv.COLOR_BGR2GRAY);
  const half = grey.pyrDown();
  if (grey !== scene) grey.release();
  const bin = half.adaptiveThreshold(255, cv.ADAPTIVE_THRESH_MEAN_C, cv.THRESH_BINARY, 15, 8);
  half.release();
  const contours = bin.findContours(cv.RETR_LIST, cv.CHAIN_APPROX_NONE);
  bin.release();
  const circles: Circle[] = [];
  for (const c of contours) {
    if (c.numPoints < 10 || c.numPoints > 400) continue;
    const area = c.area;
    if (area < 8) continue;
    const perimeter = c.arcLength(true);
    if ((4 * Math.PI * area) / (perimeter * perimeter) < 0.6) continue;
    const e = c.fitEllipse();
    const a = e.size.width / 2;
    const b = e.size.height / 2;
    if (Math.min(a, b) < 1.5 || Math.min(a, b) / Math.max(a, b) < 0.6) continue;
    circles.push({ x: e.center.x, y: e.center.y, r: Math.sqrt(a * b) });
  }
  const best = largestConcentricFamily(circles);
  if (best === null) return null;
  // pyrDown centres output pixel i on input pixel 2i.
  return { x: best.x * 2, y: best.y * 2, radiusPx: best.r * 2, rings: best.count };
}

function largestConcentricFamily(circles: readonly Circle[]): (Circle & { count: number }) | null {
  let best: (Circle & { count: number }) | null = null;
  for (const seed of circles) {
    let sx = 0;
    let sy = 0;
    let sw = 0;
    let rMax = 0;
    let rMin = Number.POSITIVE_INFINITY;
    let count = 0;
    for (const c of circles) {
      if (Math.hypot(c.x - seed.x, c.y - seed.y) > CENTRE_TOLERANCE * Math.min(c.r, seed.r) + 0.5) continue;
      // Larger rings pin the centre down better: weight by radius.
      sx += c.x * c.r;
      sy += c.y * c.r;
      sw += c.r;
      rMax = Math.max(rMax, c.r);
      rMin = Math.min(rMin, c.r);
      count++;
    }
    if (count < MIN_RINGS || rMax < 1.5 * rMin) continue;
    if (best === null || count > best.count || (count === best.count && rMax > best.r)) {
      best = { x: sx / sw, y: sy / sw, r: rMax, count };
    }
  }
  return best;
}
