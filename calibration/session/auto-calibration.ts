import type { Mat } from '../../device/opencv.ts';
import type { EyeTrackingConfig } from '../config.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';
import { type CalibrationOutcome, calibrateGaze, type GazeCalibrationSettings } from './calibrate-gaze.ts';
import { detectMarker } from './marker-detector.ts';
import type { PupilSample } from './pupil-sample.ts';
import { MarkerChoreography } from './references.ts';

/** A marker that never leaves the view (a poster on the wall) must not collect pupils for ever. */
const MAX_CHOREOGRAPHY_S = 120;

export type AutoCalibrationState = 'searching' | 'collecting' | 'finished' | 'gave-up';

/** The calibration settings of the config, in the shape the calibration takes. */
export function calibrationSettings(config: EyeTrackingConfig): GazeCalibrationSettings {
  const c = config.calibration;
  return {
    minConfidence: c.minConfidence,
    settleMs: c.settleMs,
    maxReferenceDtMs: c.maxReferenceDtMs,
    maxBinocularDtMs: config.gaze.maxBinocularDtMs,
    validationTargets: c.validationTargets,
    outlierDeg: c.outlierDeg,
    maxAccuracyDeg: c.maxAccuracyDeg,
    minSamplesPerTarget: c.minSamplesPerTarget,
    eyeCameraFocal: config.eyeCameraFocal,
  };
}

/**
 * Single-marker calibration run by the session itself: while the marker is in view of the scene camera at the
 * start of a session, its sightings and the pupils are collected; once it has been gone for a while the
 * choreography is over and the mapping is fitted and validated. If no marker shows up within the search window,
 * it gives up and the session runs on the wearer's stored calibration.
 */
export class AutoCalibration {
  private choreography: MarkerChoreography | null = null;
  private readonly pupils: PupilSample[] = [];
  private firstNs: bigint | null = null;
  private current: AutoCalibrationState = 'searching';
  private scene: SceneCamera | null = null;

  constructor(private readonly config: EyeTrackingConfig) {}

  get state(): AutoCalibrationState {
    return this.current;
  }

  get gaveUp(): boolean {
    return this.current === 'gave-up';
  }

  addPupil(s: PupilSample): void {
    if (this.current !== 'searching' && this.current !== 'collecting') return;
    this.firstNs ??= s.tNs;
    this.pupils.push(s);
  }

  /** Looks for the marker in one scene frame; true when this frame ended the choreography. */
  addScene(tNs: bigint, mat: Mat, scene: SceneCamera): boolean {
    if (this.current !== 'searching' && this.current !== 'collecting') return false;
    this.firstNs ??= tNs;
    this.scene = scene;
    const c = this.config.calibration;
    this.choreography ??= new MarkerChoreography({
      targetRadiusPx: c.targetRadiusDeg * scene.pxPerDeg(),
      maxGapMs: 300,
    });
    this.choreography.add(tNs, detectMarker(mat));
    const last = this.choreography.lastSeenNs;
    if (last === null) {
      if (Number(tNs - this.firstNs) / 1e9 > c.searchWindowS) {
        this.current = 'gave-up';
        this.pupils.length = 0;
      }
      return false;
    }
    this.current = 'collecting';
    const first = this.choreography.firstSeenNs ?? last;
    return Number(tNs - last) / 1e6 >= c.markerGoneMs || Number(tNs - first) / 1e9 >= MAX_CHOREOGRAPHY_S;
  }

  /** Fits and validates what was collected (call once, when `addScene` said so or when input ends). */
  finish(): CalibrationOutcome | null {
    if (this.current !== 'collecting' || this.choreography === null || this.scene === null) return null;
    this.current = 'finished';
    const outcome = calibrateGaze(
      {
        method: 'single-marker',
        references: this.choreography.references(),
        targets: this.choreography.targets(),
        pupils: this.pupils,
        scene: this.scene,
      },
      calibrationSettings(this.config),
    );
    this.pupils.length = 0;
    return outcome;
  }
}
