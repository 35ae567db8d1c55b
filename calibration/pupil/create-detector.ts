import type { EyeTrackingConfig } from '../config.ts';
import { DarkPupilDetector } from './dark-pupil-detector.ts';
import type { PupilDetector } from './types.ts';

type DetectorConfig = EyeTrackingConfig['detector'];

/**
 * The configured detector back-end for the synchronous per-frame stage; one instance per eye stream (detectors
 * keep scratch buffers). The `cnn` detector is asynchronous (onnxruntime's `run` returns a promise) and the
 * stages hand each frame's pupil to the gaze stage within that frame, so it is refused here with the reason,
 * at start rather than on the first frame: use `createAsyncPupilDetector`.
 */
export function createPupilDetector(config: DetectorConfig): PupilDetector {
  switch (config.type) {
    case 'dark-pupil':
      return new DarkPupilDetector(config);
    case 'cnn':
      throw new Error(
        'eyeTracking.detector.type "cnn" runs only in the batched measurement path (tests, bench) for now: ' +
          'its inference is asynchronous and the live pupil stage is per-frame synchronous',
      );
  }
}
