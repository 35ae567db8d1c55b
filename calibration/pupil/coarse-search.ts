import type { GreyImage } from './types.ts';

/** Where the darkest compact blob with a brighter surround is, at a quarter of the resolution. */
export interface CoarsePupil {
  /** Centre in full-resolution pixels. */
  readonly x: number;
  readonly y: number;
  /** Half-side of the dark core box, full-resolution pixels: a lower bound on the pupil radius. */
  readonly core: number;
  /** Mean grey of the core box and of its surround. */
  readonly coreMean: number;
  readonly surroundMean: number;
  /** surroundMean - coreMean. */
  readonly contrast: number;
}

/**
 * The coarse step of Pupil Core's 2D detector (a Haar-like centre-surround response, after Świrski et al. 2012),
 * done on block means of the image so it costs tens of microseconds: for each position and core size, the
 * brightness of a box three times as wide minus that of the core. Eyelashes and lid creases are thin, so they
 * darken a core box far less than a pupil does; glints are small, so they lift it only a little.
 */
export class CoarseSearch {
  private readonly factor: number;
  private readonly sw: number;
  private readonly sh: number;
  private readonly integral: Float64Array;
  private readonly sizes: number[];

  constructor(width: number, height: number, minCorePx: number, maxCorePx: number) {
    this.factor = Math.max(1, Math.round(Math.min(width, height) / 48));
    this.sw = Math.floor(width / this.factor);
    this.sh = Math.floor(height / this.factor);
    this.integral = new Float64Array((this.sw + 1) * (this.sh + 1));
    const lo = Math.max(1, Math.round(minCorePx / this.factor));
    const hi = Math.max(lo, Math.round(maxCorePx / this.factor));
    this.sizes = [];
    for (let h = lo; h <= hi; h++) this.sizes.push(h);
  }

  search(img: GreyImage): CoarsePupil {
    this.buildIntegral(img);
    const { sw, sh, factor } = this;
    let bestX = 0;
    let bestY = 0;
    let bestH = 1;
    let bestCore = 0;
    let bestContrast = Number.NEGATIVE_INFINITY;
    for (const h of this.sizes) {
      const o = 3 * h + 1; // surround half-side: three times the core side
      const innerN = (2 * h + 1) * (2 * h + 1);
      for (let y = h; y < sh - h; y++) {
        const y0 = Math.max(0, y - o);
        const y1 = Math.min(sh, y + o + 1);
        for (let x = h; x < sw - h; x++) {
          const inner = this.boxSum(x - h, y - h, x + h + 1, y + h + 1);
          const x0 = Math.max(0, x - o);
          const x1 = Math.min(sw, x + o + 1);
          const outer = this.boxSum(x0, y0, x1, y1) - inner;
          const core = inner / innerN;
          const contrast = outer / ((x1 - x0) * (y1 - y0) - innerN) - core;
          if (contrast > bestContrast) {
            bestContrast = contrast;
            bestX = x;
            bestY = y;
            bestH = h;
            bestCore = core;
          }
        }
      }
    }
    return {
      x: (bestX + 0.5) * factor - 0.5,
      y: (bestY + 0.5) * factor - 0.5,
      core: (bestH + 0.5) * factor,
      coreMean: bestCore,
      surroundMean: bestCore + bestContrast,
      contrast: bestContrast,
    };
  }

  /** Integral image of factor×factor block means. */
  private buildIntegral(img: GreyImage): void {
    const { sw, sh, factor, integral } = this;
    const row = sw + 1;
    const data = img.data;
    const w = img.width;
    const norm = 1 / (factor * factor);
    for (let by = 0; by < sh; by++) {
      let acc = 0;
      for (let bx = 0; bx < sw; bx++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          const base = (by * factor + dy) * w + bx * factor;
          for (let dx = 0; dx < factor; dx++) sum += data[base + dx] as number;
        }
        acc += sum * norm;
        integral[(by + 1) * row + bx + 1] = (integral[by * row + bx + 1] as number) + acc;
      }
    }
  }

  private boxSum(x0: number, y0: number, x1: number, y1: number): number {
    const row = this.sw + 1;
    const s = this.integral;
    return (
      (s[y1 * row + x1] as number) -
      (s[y0 * row + x1] as number) -
      (s[y1 * row + x0] as number) +
      (s[y0 * row + x0] as number)
    );
  }
}
