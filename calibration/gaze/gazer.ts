import { type Ray, SceneCamera, type SceneIntrinsics } from '../intrinsics/scene-camera.ts';
import {
  type PolynomialDegree,
  PolynomialRegression,
  type RegressionFit,
  type RegressionParams,
  type ScenePoint,
} from './polynomial-regression.ts';
import { type NormaliserParams, PupilNormaliser, type PupilPoint } from './pupil-normaliser.ts';

export type { PupilPoint } from './pupil-normaliser.ts';
export type EyeId = 'eye0' | 'eye1';
export const EYES: readonly EyeId[] = ['eye0', 'eye1'];
export type GazeSource = EyeId | 'binocular';

/** One calibration observation: where the wearer looked in the scene, and where each eye's pupil was. */
export interface GazePair {
  readonly ref: ScenePoint;
  readonly eye0?: PupilPoint;
  readonly eye1?: PupilPoint;
}

/** What is stored per wearer: versioned, and self-contained (it carries the scene intrinsics it was fitted in). */
export interface GazerParams {
  readonly kind: 'polynomial-2d';
  readonly version: 2;
  readonly scene: SceneIntrinsics;
  readonly normalisers: Partial<Record<EyeId, NormaliserParams>>;
  readonly eye0?: RegressionParams;
  readonly eye1?: RegressionParams;
  /** Absent: both eyes' monocular directions are averaged (too few targets for a 13-term fit). */
  readonly binocular?: RegressionParams;
}

export interface FitSummary {
  readonly used: number;
  readonly rejected: number;
  /** RMS residual of the kept observations, degrees. */
  readonly rmsDeg: number;
}

export type GazerFitReport = Partial<Record<GazeSource, FitSummary>>;

export interface GazerFitOptions {
  readonly degree: PolynomialDegree;
  /** Fit a 13-term binocular polynomial (needs ≥ 13 targets) instead of averaging the two eyes. */
  readonly binocularRegression: boolean;
  readonly outlierDeg: number;
  readonly normalisers: Partial<Record<EyeId, NormaliserParams>>;
  readonly scene: SceneIntrinsics;
}

/** Regression outputs: the unit viewing ray's x and y, in thousandths (≈ 17.5 per degree near the centre). */
const RAY_SCALE = 1000;
const UNITS_PER_DEG = (RAY_SCALE * Math.PI) / 180;

/**
 * Pupil Core's 2D gazer, mapping onto scene-camera viewing directions rather than pixels (a wide-angle scene
 * camera stretches the periphery, which a quadratic cannot follow): a polynomial per eye, and either a 13-term
 * one over both eyes or the mean of the two eyes' directions. Fitting data comes from a calibration choreography
 * (`../session/`); this object only fits, predicts and reports its parameters.
 */
export class Gazer2D {
  private constructor(
    private readonly p: GazerParams,
    private readonly models: Partial<Record<GazeSource, PolynomialRegression>>,
    private readonly norm: Partial<Record<EyeId, PupilNormaliser>>,
    private readonly scene: SceneCamera,
  ) {}

  static fit(pairs: readonly GazePair[], o: GazerFitOptions): { gazer: Gazer2D; report: GazerFitReport } | null {
    const scene = new SceneCamera(o.scene);
    const norm = normalisersOf(o.normalisers);
    const outlier = o.outlierDeg * UNITS_PER_DEG;
    const target = (p: GazePair): ScenePoint => {
      const r = scene.ray(p.ref.x, p.ref.y);
      return { x: r[0] * RAY_SCALE, y: r[1] * RAY_SCALE };
    };
    const models: Partial<Record<GazeSource, PolynomialRegression>> = {};
    const report: GazerFitReport = {};
    const put = (source: GazeSource, fit: RegressionFit | null) => {
      if (fit === null) return;
      models[source] = fit.model;
      report[source] = { used: fit.used, rejected: fit.rejected, rmsDeg: fit.rmsPx / UNITS_PER_DEG };
    };
    for (const eye of EYES) {
      const n = norm[eye];
      const own = pairs.filter((p) => p[eye] !== undefined);
      if (n === undefined || own.length === 0) continue;
      put(
        eye,
        PolynomialRegression.fit(
          own.map((p) => n.normalise(p[eye] as PupilPoint)),
          own.map(target),
          o.degree,
          outlier,
        ),
      );
    }
    const both = pairs.filter((p) => p.eye0 !== undefined && p.eye1 !== undefined);
    if (o.binocularRegression && both.length > 0 && norm.eye0 && norm.eye1) {
      const n0 = norm.eye0;
      const n1 = norm.eye1;
      const inputs = both.map((p) => [...n0.normalise(p.eye0 as PupilPoint), ...n1.normalise(p.eye1 as PupilPoint)]);
      put('binocular', PolynomialRegression.fit(inputs, both.map(target), o.degree, outlier));
    }
    if (Object.keys(models).length === 0) return null;
    const params: GazerParams = {
      kind: 'polynomial-2d',
      version: 2,
      scene: o.scene,
      normalisers: o.normalisers,
      ...(models.eye0 ? { eye0: models.eye0.params() } : {}),
      ...(models.eye1 ? { eye1: models.eye1.params() } : {}),
      ...(models.binocular ? { binocular: models.binocular.params() } : {}),
    };
    return { gazer: new Gazer2D(params, models, norm, scene), report };
  }

  static fromParams(p: GazerParams): Gazer2D {
    if (p.kind !== 'polynomial-2d' || p.version !== 2)
      throw new Error(`unknown gaze mapping ${String(p.kind)} v${String(p.version)}`);
    const models: Partial<Record<GazeSource, PolynomialRegression>> = {};
    for (const source of ['eye0', 'eye1', 'binocular'] as const) {
      const r = p[source];
      if (r !== undefined) models[source] = PolynomialRegression.fromParams(r);
    }
    return new Gazer2D(p, models, normalisersOf(p.normalisers), new SceneCamera(p.scene));
  }

  /**
   * Gaze in scene pixels from whichever pupils are given (both eyes when both are), each optionally with the
   * eyeball-centre shift the slippage estimate found. Null when no model serves what is given.
   */
  predict(
    eye0?: PupilPoint,
    eye1?: PupilPoint,
    shift: Partial<Record<EyeId, readonly [number, number]>> = {},
  ): { point: ScenePoint; source: GazeSource } | null {
    const u0 = eye0 !== undefined ? this.norm.eye0?.normalise(eye0, shift.eye0) : undefined;
    const u1 = eye1 !== undefined ? this.norm.eye1?.normalise(eye1, shift.eye1) : undefined;
    const bino = this.models.binocular;
    if (u0 !== undefined && u1 !== undefined && bino !== undefined)
      return this.toPixels(bino.predict([...u0, ...u1]), 'binocular');
    const m0 = u0 !== undefined ? this.models.eye0?.predict(u0) : undefined;
    const m1 = u1 !== undefined ? this.models.eye1?.predict(u1) : undefined;
    if (m0 !== undefined && m1 !== undefined)
      return this.toPixels({ x: (m0.x + m1.x) / 2, y: (m0.y + m1.y) / 2 }, 'binocular');
    if (m0 !== undefined) return this.toPixels(m0, 'eye0');
    if (m1 !== undefined) return this.toPixels(m1, 'eye1');
    return null;
  }

  params(): GazerParams {
    return this.p;
  }

  private toPixels(r: ScenePoint, source: GazeSource): { point: ScenePoint; source: GazeSource } | null {
    const x = r.x / RAY_SCALE;
    const y = r.y / RAY_SCALE;
    const ray: Ray = [x, y, Math.sqrt(Math.max(1e-6, 1 - x * x - y * y))];
    const point = this.scene.project(ray);
    return point === null ? null : { point, source };
  }
}

function normalisersOf(p: Partial<Record<EyeId, NormaliserParams>>): Partial<Record<EyeId, PupilNormaliser>> {
  const out: Partial<Record<EyeId, PupilNormaliser>> = {};
  for (const eye of EYES) {
    const n = p[eye];
    if (n !== undefined) out[eye] = new PupilNormaliser(n);
  }
  return out;
}
