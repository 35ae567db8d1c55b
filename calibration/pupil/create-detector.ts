import type { EyeTrackingConfig } from '../config.ts';
import { DarkPupilDetector } from './dark-pupil-detector.ts';
import type { PupilDetector } from './types.ts';

type DetectorConfig = EyeTrackingConfig['detector'];

/**
 * The classical detector back-end; one instance per eye stream (detectors keep scratch buffers). The `cnn`
 * detector needs the model registry and answers with a promise: the daemon builds it with
 * `createAsyncPupilDetector` (device/stages.ts); a caller without a registry gets this refusal, at start.
 */
export function createPupilDetector(config: DetectorConfig): PupilDetector {
  switch (config.type) {
    case 'dark-pupil':
      return new DarkPupilDetector(config);
    case 'cnn':
      throw new Error(
        'eyeTracking.detector.type "cnn" needs the model registry, which only the daemon (glance run) and the ' +
          'benchmarks open; use the dark-pupil detector here',
      );
  }
}
