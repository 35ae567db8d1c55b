import type { Frame } from '../../device/frames.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { EyeTrackingConfig } from '../config.ts';
import type { EyeId } from '../gaze/gazer.ts';
import { createPupilDetector } from '../pupil/create-detector.ts';
import { greyImageOf } from '../pupil/grey-image.ts';
import { PupilTracker } from '../pupil/pupil-tracker.ts';
import type { PupilDetector } from '../pupil/types.ts';
import type { EyeTrackingContext } from './context.ts';

/** Pupil detection on every eye frame: detector, then the per-eye plausibility track. */
export class PupilStage implements Stage {
  readonly name = 'pupil';
  private readonly detectors: Partial<Record<EyeId, PupilDetector>> = {};
  private readonly trackers: Partial<Record<EyeId, PupilTracker>> = {};

  constructor(
    private readonly config: EyeTrackingConfig,
    private readonly context: EyeTrackingContext,
  ) {
    // An asynchronous (cnn) detector cannot serve this per-frame stage: refuse it now, with the reason, not on the
    // first frame (create-detector.ts).
    if (config.detector.type !== 'dark-pupil') createPupilDetector(config.detector);
  }

  onEyeFrame(frame: Frame): void {
    if (frame.stream === 'scene') return;
    const eye = frame.stream;
    this.detectors[eye] ??= createPupilDetector(this.config.detector);
    this.trackers[eye] ??= new PupilTracker(this.config.tracker);
    const img = greyImageOf(frame.mat);
    const detection = this.trackers[eye].update(this.detectors[eye].detect(img), frame.tNs, img.width);
    this.context.putPupil(
      {
        eye,
        tNs: frame.tNs,
        confidence: detection.confidence,
        ellipse: detection.ellipse,
        width: img.width,
        height: img.height,
      },
      frame.index,
    );
  }
}
