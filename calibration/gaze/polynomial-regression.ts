import { solveLeastSquares } from './least-squares.ts';

/**
 * Pupil Core's 2D gaze mapping: scene x and y as polynomials of the normalised pupil position. `full` is
 * [1, x, y, xy, x², y², x²y²] per eye (13 terms for two eyes, sharing the constant); `affine` is [1, x, y] per eye,
 * for calibrations with too few distinct targets to pin the quadratic terms down.
 */
export type PolynomialDegree = 'full' | 'affine';

export interface RegressionParams {
  readonly degree: PolynomialDegree;
  /** 2 for one eye (x, y), 4 for both (x0, y0, x1, y1). */
  readonly inputs: 2 | 4;
  readonly coeffX: number[];
  readonly coeffY: number[];
}

export interface ScenePoint {
  readonly x: number;
  readonly y: number;
}

export interface RegressionFit {
  readonly model: PolynomialRegression;
  /** Samples kept after the outlier-rejecting refit, and those dropped. */
  readonly used: number;
  readonly rejected: number;
  /** RMS residual of the kept samples, scene px. */
  readonly rmsPx: number;
}

/** The refit is done only if at least this fraction of the samples survives the outlier cut. */
const MIN_KEPT = 0.75;

export function termCount(degree: PolynomialDegree, inputs: 2 | 4): number {
  const perEye = degree === 'full' ? 6 : 2;
  return 1 + perEye * (inputs / 2);
}

/** Distinct targets the fit needs to be determined: a polynomial cannot be pinned by fewer points than terms. */
export function minTargets(degree: PolynomialDegree): number {
  return degree === 'full' ? 7 : 3;
}

function features(input: ArrayLike<number>, degree: PolynomialDegree, inputs: 2 | 4, out: Float64Array): Float64Array {
  out[0] = 1;
  let k = 1;
  for (let e = 0; e < inputs; e += 2) {
    const x = input[e] as number;
    const y = input[e + 1] as number;
    out[k++] = x;
    out[k++] = y;
    if (degree === 'full') {
      out[k++] = x * y;
      out[k++] = x * x;
      out[k++] = y * y;
      out[k++] = x * x * y * y;
    }
  }
  return out;
}

export class PolynomialRegression {
  private readonly scratch: Float64Array;

  private constructor(private readonly p: RegressionParams) {
    this.scratch = new Float64Array(termCount(p.degree, p.inputs));
  }

  static fromParams(p: RegressionParams): PolynomialRegression {
    const n = termCount(p.degree, p.inputs);
    if (p.coeffX.length !== n || p.coeffY.length !== n) throw new Error(`expected ${n} coefficients per axis`);
    return new PolynomialRegression(p);
  }

  /**
   * Least-squares fit, then one refit without the samples whose residual exceeds `outlierPx` (a blink, a glance
   * away from the target): Pupil Core's outlier rejection. Null when the samples cannot determine the terms.
   */
  static fit(
    inputs: readonly ArrayLike<number>[],
    targets: readonly ScenePoint[],
    degree: PolynomialDegree,
    outlierPx: number,
  ): RegressionFit | null {
    const width = inputs[0]?.length;
    if (width !== 2 && width !== 4) return null;
    const rows = inputs.map((i) => features(i, degree, width, new Float64Array(termCount(degree, width))));
    const first = fitRows(rows, targets, degree, width);
    if (first === null) return null;
    const keep: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (residual(first, inputs[i] as ArrayLike<number>, targets[i] as ScenePoint) <= outlierPx) keep.push(i);
    }
    let model = first;
    // Outliers are a minority by definition: when most samples miss the first fit, the model is what is wrong,
    // and refitting on the few it happens to match would only hide that.
    if (
      keep.length < rows.length &&
      keep.length >= MIN_KEPT * rows.length &&
      keep.length >= termCount(degree, width) * 2
    ) {
      model =
        fitRows(
          keep.map((i) => rows[i] as Float64Array),
          keep.map((i) => targets[i] as ScenePoint),
          degree,
          width,
        ) ?? first;
    } else {
      keep.length = 0;
      for (let i = 0; i < rows.length; i++) keep.push(i);
    }
    let sq = 0;
    for (const i of keep) sq += residual(model, inputs[i] as ArrayLike<number>, targets[i] as ScenePoint) ** 2;
    return { model, used: keep.length, rejected: rows.length - keep.length, rmsPx: Math.sqrt(sq / keep.length) };
  }

  predict(input: ArrayLike<number>): ScenePoint {
    const f = features(input, this.p.degree, this.p.inputs, this.scratch);
    let x = 0;
    let y = 0;
    for (let i = 0; i < f.length; i++) {
      x += (f[i] as number) * (this.p.coeffX[i] as number);
      y += (f[i] as number) * (this.p.coeffY[i] as number);
    }
    return { x, y };
  }

  params(): RegressionParams {
    return { ...this.p, coeffX: [...this.p.coeffX], coeffY: [...this.p.coeffY] };
  }
}

function fitRows(
  rows: readonly Float64Array[],
  targets: readonly ScenePoint[],
  degree: PolynomialDegree,
  inputs: 2 | 4,
): PolynomialRegression | null {
  const n = termCount(degree, inputs);
  const cx = solveLeastSquares(
    rows,
    targets.map((t) => t.x),
    n,
  );
  const cy = solveLeastSquares(
    rows,
    targets.map((t) => t.y),
    n,
  );
  if (cx === null || cy === null) return null;
  return PolynomialRegression.fromParams({ degree, inputs, coeffX: Array.from(cx), coeffY: Array.from(cy) });
}

function residual(m: PolynomialRegression, input: ArrayLike<number>, t: ScenePoint): number {
  const p = m.predict(input);
  return Math.hypot(p.x - t.x, p.y - t.y);
}
