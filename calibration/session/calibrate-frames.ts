import type { Frame } from '../../device/frames.ts';
import type { EyeTrackingConfig } from '../config.ts';
import type { EyeId } from '../gaze/gazer.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';
import { createPupilDetector } from '../pupil/create-detector.ts';
import { greyImageOf } from '../pupil/grey-image.ts';
import { PupilTracker } from '../pupil/pupil-tracker.ts';
import type { PupilDetector } from '../pupil/types.ts';
import { AutoCalibration, calibrationSettings } from './auto-calibration.ts';
import { type CalibrationOutcome, calibrateGaze } from './calibrate-gaze.ts';
import type { PupilSample } from './pupil-sample.ts';
import { type NaturalTarget, naturalReferences } from './references.ts';

export interface FramesCalibrationOptions {
  readonly config: EyeTrackingConfig;
  /** The scene camera, given the scene frame size (known at the first scene frame). */
  readonly scene: (width: number, height: number) => SceneCamera;
  /** Natural-feature targets; without them the single-marker choreography is looked for. */
  readonly targets?: readonly NaturalTarget[];
}

export interface FramesCalibration {
  readonly outcome: CalibrationOutcome;
  readonly framesRead: number;
}

/** Stop reading this long after the last natural-feature target: its pupils are all in by then. */
const TAIL_NS = 200_000_000n;

/**
 * Calibrates from a recorded session's frames (for `glance calibrate gaze --replay`): pupils on every eye frame,
 * and either the marker on the scene frames or the given natural-feature targets. Reading stops as soon as the
 * choreography is over. Each frame's pixels are released here, after use.
 */
export async function calibrateFromFrames(
  frames: AsyncIterable<Frame>,
  o: FramesCalibrationOptions,
): Promise<FramesCalibration> {
  const detectors: Partial<Record<EyeId, PupilDetector>> = {};
  const trackers: Partial<Record<EyeId, PupilTracker>> = {};
  const auto = o.targets === undefined ? new AutoCalibration(o.config) : null;
  const pupils: PupilSample[] = [];
  let lastNs = 0n;
  for (const t of o.targets ?? []) if (t.endNs > lastNs) lastNs = t.endNs;
  let scene: SceneCamera | null = null;
  let framesRead = 0;
  let done = false;
  for await (const frame of frames) {
    framesRead++;
    try {
      if (frame.stream === 'scene') {
        scene ??= o.scene(frame.width, frame.height);
        if (auto !== null) done = auto.addScene(frame.tNs, frame.mat, scene) || auto.gaveUp;
      } else {
        const eye = frame.stream;
        detectors[eye] ??= createPupilDetector(o.config.detector);
        trackers[eye] ??= new PupilTracker(o.config.tracker);
        const img = greyImageOf(frame.mat);
        const d = trackers[eye].update(detectors[eye].detect(img), frame.tNs, img.width);
        const sample: PupilSample = {
          eye,
          tNs: frame.tNs,
          confidence: d.confidence,
          ellipse: d.ellipse,
          width: img.width,
          height: img.height,
        };
        if (auto !== null) auto.addPupil(sample);
        else pupils.push(sample);
        if (o.targets !== undefined && frame.tNs > lastNs + TAIL_NS) done = true;
      }
    } finally {
      frame.mat.release();
    }
    if (done) break;
  }
  if (scene === null) return { outcome: failure('the session has no scene frames'), framesRead };
  if (auto !== null) {
    const outcome = auto.finish();
    return {
      outcome:
        outcome ??
        failure(`no calibration marker in the first ${o.config.calibration.searchWindowS} s of the scene video`),
      framesRead,
    };
  }
  const { references, targets } = naturalReferences(o.targets ?? []);
  const outcome = calibrateGaze(
    { method: 'natural-features', references, targets, pupils, scene },
    calibrationSettings(o.config),
  );
  return { outcome, framesRead };
}

function failure(reason: string): CalibrationOutcome {
  return {
    ok: false,
    reason,
    mapping: null,
    report: {
      method: 'single-marker',
      degree: null,
      targets: { calibration: [], validation: [], unusable: [] },
      observations: { calibration: 0, validation: 0, lowConfidence: 0, offTarget: 0 },
      fit: null,
      normalisation: {},
      validation: null,
      accuracyDeg: null,
      precisionDeg: null,
    },
  };
}
