import type { Frame } from '../../device/frames.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { EyeTrackingConfig } from '../config.ts';
import type { EyeId } from '../gaze/gazer.ts';
import { createPupilDetector } from '../pupil/create-detector.ts';
import { greyImageOf } from '../pupil/grey-image.ts';
import { PupilTracker } from '../pupil/pupil-tracker.ts';
import type { AsyncPupilDetector, GreyImage, PupilDetection, PupilDetector } from '../pupil/types.ts';
import type { EyeTrackingContext } from './context.ts';

/**
 * Pupil detection on every eye frame: detector, then the per-eye plausibility track. The classical detector
 * answers synchronously; the learnt one (`learnt`, the zoo's pupil network through the model registry) answers
 * with a promise, which the pipeline awaits before the gaze stage sees the frame.
 */
export class PupilStage implements Stage {
  readonly name = 'pupil';
  private readonly detectors: Partial<Record<EyeId, PupilDetector>> = {};
  private readonly trackers: Partial<Record<EyeId, PupilTracker>> = {};

  constructor(
    private readonly config: EyeTrackingConfig,
    private readonly context: EyeTrackingContext,
    private readonly learnt?: AsyncPupilDetector,
  ) {
    // Without the registry a cnn detector cannot run: refuse now, with the reason, not on the first frame.
    if (config.detector.type !== 'dark-pupil' && learnt === undefined) createPupilDetector(config.detector);
  }

  onEyeFrame(frame: Frame): void | Promise<void> {
    if (frame.stream === 'scene') return;
    const eye = frame.stream;
    const img = greyImageOf(frame.mat);
    if (this.learnt)
      return this.learnt.detectBatch([img]).then(([d]) => this.put(eye, frame, img, d as PupilDetection));
    this.detectors[eye] ??= createPupilDetector(this.config.detector);
    this.put(eye, frame, img, this.detectors[eye].detect(img));
  }

  private put(eye: EyeId, frame: Frame, img: GreyImage, raw: PupilDetection): void {
    this.trackers[eye] ??= new PupilTracker(this.config.tracker);
    const detection = this.trackers[eye].update(raw, frame.tNs, img.width);
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
