import type { EyeId } from '../gaze/gazer.ts';
import type { PupilEllipse } from '../pupil/types.ts';

/** One eye frame's pupil as calibration and gaze mapping use it. */
export interface PupilSample {
  readonly eye: EyeId;
  readonly tNs: bigint;
  readonly confidence: number;
  /** Null when no pupil was found. */
  readonly ellipse: PupilEllipse | null;
  readonly width: number;
  readonly height: number;
}
