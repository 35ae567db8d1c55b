import { EYES, type EyeId, Gazer2D, type GazerFitReport, type GazerParams } from '../gaze/gazer.ts';
import { minTargets, type PolynomialDegree } from '../gaze/polynomial-regression.ts';
import type { NormaliserParams } from '../gaze/pupil-normaliser.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';
import type { PupilEllipse } from '../pupil/types.ts';
import { estimateEyeCentre, MIN_SPREAD } from '../slippage/eye-centre.ts';
import { type PairingParams, pairWithReferences, type TimedPair } from './pairing.ts';
import type { PupilSample } from './pupil-sample.ts';
import type { Reference, Target } from './references.ts';
import { type ValidationReport, validate } from './validation.ts';

export type CalibrationMethod = 'single-marker' | 'natural-features';

export interface GazeCalibrationSettings extends PairingParams {
  /** How many of the last targets (of those without an explicit role) are held out to validate the fit. */
  readonly validationTargets: number;
  /** Residual beyond which an observation is dropped before the refit, degrees. */
  readonly outlierDeg: number;
  /** A calibration less accurate than this on its validation targets is rejected, degrees. */
  readonly maxAccuracyDeg: number;
  /** Targets with fewer usable observations than this do not count. */
  readonly minSamplesPerTarget: number;
  /** Eye-camera focal length as a multiple of the eye image's width (a property of the camera module). */
  readonly eyeCameraFocal: number;
}

export interface CalibrationInput {
  readonly method: CalibrationMethod;
  readonly references: readonly Reference[];
  readonly targets: readonly Target[];
  readonly pupils: readonly PupilSample[];
  readonly scene: SceneCamera;
}

export interface CalibrationReport {
  readonly method: CalibrationMethod;
  readonly degree: PolynomialDegree | null;
  readonly targets: { readonly calibration: number[]; readonly validation: number[]; readonly unusable: number[] };
  readonly observations: {
    readonly calibration: number;
    readonly validation: number;
    readonly lowConfidence: number;
    readonly offTarget: number;
  };
  readonly fit: GazerFitReport | null;
  /** How each eye's pupil was normalised: through a fitted eye model, or by image size when that failed. */
  readonly normalisation: Partial<Record<EyeId, NormaliserParams['kind']>>;
  /** On the held-out targets; on the calibration targets themselves when none could be held out. */
  readonly validation: (ValidationReport & { readonly heldOut: boolean }) | null;
  readonly accuracyDeg: number | null;
  readonly precisionDeg: number | null;
}

export interface CalibrationOutcome {
  readonly ok: boolean;
  /** Why it failed, in words a wearer's app can show. */
  readonly reason?: string;
  readonly mapping: GazerParams | null;
  readonly report: CalibrationReport;
}

/**
 * Fits and validates a gaze mapping from collected observations. It never throws: a calibration that cannot be
 * fitted, or fits badly, comes back with `ok: false` and a reason, and the caller keeps the previous mapping.
 */
export function calibrateGaze(input: CalibrationInput, settings: GazeCalibrationSettings): CalibrationOutcome {
  const pairing = pairWithReferences(input.references, input.targets, input.pupils, settings);
  const counts = new Map<number, number>();
  for (const p of pairing.pairs) counts.set(p.target, (counts.get(p.target) ?? 0) + 1);
  const usable = input.targets.filter((t) => (counts.get(t.id) ?? 0) >= settings.minSamplesPerTarget);
  const unusable = input.targets.filter((t) => !usable.includes(t)).map((t) => t.id);
  const roles = assignRoles(usable, settings.validationTargets);
  const calPairs = pairing.pairs.filter((p) => roles.calibration.includes(p.target));
  const valPairs = pairing.pairs.filter((p) => roles.validation.includes(p.target));
  const base: CalibrationReport = {
    method: input.method,
    degree: null,
    targets: { ...roles, unusable },
    observations: {
      calibration: calPairs.length,
      validation: valPairs.length,
      lowConfidence: pairing.lowConfidence,
      offTarget: pairing.offTarget,
    },
    fit: null,
    normalisation: {},
    validation: null,
    accuracyDeg: null,
    precisionDeg: null,
  };
  const fail = (
    reason: string,
    extra: Partial<CalibrationReport> = {},
    mapping: GazerParams | null = null,
  ): CalibrationOutcome => ({
    ok: false,
    reason,
    mapping,
    report: { ...base, ...extra },
  });
  if (roles.calibration.length < minTargets('affine')) {
    const why =
      pairing.pairs.length === 0 && pairing.lowConfidence > 0
        ? 'no confident pupil on any target'
        : 'too few usable targets';
    return fail(`${why}: ${roles.calibration.length} for calibration, at least ${minTargets('affine')} needed`);
  }
  const degree: PolynomialDegree = roles.calibration.length >= minTargets('full') ? 'full' : 'affine';
  const normalisers = eyeNormalisers(calPairs, input.pupils, settings.eyeCameraFocal);
  const fitted = Gazer2D.fit(calPairs, {
    degree,
    binocularRegression: roles.calibration.length >= BINOCULAR_TARGETS,
    outlierDeg: settings.outlierDeg,
    normalisers,
    scene: input.scene.intrinsics,
  });
  if (fitted === null) return fail('the gaze mapping could not be fitted (observations degenerate)', { degree });
  const heldOut = valPairs.length > 0;
  const v = validate(fitted.gazer, heldOut ? valPairs : calPairs, input.scene);
  const report: CalibrationReport = {
    ...base,
    degree,
    fit: fitted.report,
    normalisation: Object.fromEntries(Object.entries(normalisers).map(([eye, n]) => [eye, n.kind])),
    validation: v === null ? null : { ...v, heldOut },
    accuracyDeg: v?.accuracyDeg ?? null,
    precisionDeg: v?.precisionDeg ?? null,
  };
  const mapping = fitted.gazer.params();
  if (v === null) return fail('nothing to validate the mapping on', report, mapping);
  if (!(v.accuracyDeg <= settings.maxAccuracyDeg)) {
    return fail(
      `accuracy ${v.accuracyDeg.toFixed(2)}° is worse than the ${settings.maxAccuracyDeg}° allowed`,
      report,
      mapping,
    );
  }
  return { ok: true, mapping, report };
}

/** Explicit roles stand; of the rest, the last `holdOut` are validation, keeping enough to fit the full model. */
function assignRoles(targets: readonly Target[], holdOut: number): { calibration: number[]; validation: number[] } {
  const auto = [...targets].filter((t) => t.role === 'auto').sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
  const explicitCal = targets.filter((t) => t.role === 'calibration').map((t) => t.id);
  const explicitVal = targets.filter((t) => t.role === 'validation').map((t) => t.id);
  const spare = Math.max(0, auto.length + explicitCal.length - minTargets('full'));
  const fallback = Math.max(0, auto.length + explicitCal.length - minTargets('affine'));
  const n = Math.min(holdOut, spare > 0 ? spare : fallback, auto.length);
  const val = auto.slice(auto.length - n).map((t) => t.id);
  return {
    calibration: [...explicitCal, ...auto.slice(0, auto.length - n).map((t) => t.id)].sort((a, b) => a - b),
    validation: [...explicitVal, ...val].sort((a, b) => a - b),
  };
}

/** A 13-term binocular polynomial needs as many distinct targets; with fewer the two eyes are averaged. */
const BINOCULAR_TARGETS = 13;
const MIN_EYE_MODEL_SAMPLES = 40;

/**
 * Per eye, the eye model fitted to the calibration period's pupils (all confident ones from the first to the last
 * observation, not only the paired ones: the centre needs the eye to move), or plain image normalisation when the
 * pupils do not pin the eyeball centre down.
 */
function eyeNormalisers(
  pairs: readonly TimedPair[],
  pupils: readonly PupilSample[],
  focalRatio: number,
): Partial<Record<EyeId, NormaliserParams>> {
  const out: Partial<Record<EyeId, NormaliserParams>> = {};
  const from = pairs[0]?.tNs ?? 0n;
  const to = pairs.at(-1)?.tNs ?? 0n;
  for (const eye of EYES) {
    const own = pupils.filter(
      (s) => s.eye === eye && s.ellipse !== null && s.confidence >= 0.8 && s.tNs >= from && s.tNs <= to,
    );
    const size = own[0] ?? pupils.find((s) => s.eye === eye);
    if (size === undefined || !pairs.some((p) => p[eye] !== undefined)) continue;
    const c = own.length >= MIN_EYE_MODEL_SAMPLES ? estimateEyeCentre(own.map((s) => s.ellipse as PupilEllipse)) : null;
    const sane = c !== null && c.spread >= MIN_SPREAD && c.radiusPx > 0.1 * size.width && c.radiusPx < 2 * size.width;
    out[eye] = sane
      ? {
          kind: 'eye-model',
          centre: [c.x, c.y],
          radiusPx: c.radiusPx,
          focalPx: focalRatio * size.width,
          principal: [(size.width - 1) / 2, (size.height - 1) / 2],
        }
      : { kind: 'image', width: size.width, height: size.height };
  }
  return out;
}
