import type { EyeTrackingConfig } from '../config.ts';
import { DarkPupilDetector } from './dark-pupil-detector.ts';
import type { PupilDetector } from './types.ts';

/** The configured detector back-end; one instance per eye stream (detectors keep scratch buffers). */
export function createPupilDetector(config: EyeTrackingConfig['detector']): PupilDetector {
  switch (config.type) {
    case 'dark-pupil':
      return new DarkPupilDetector(config);
  }
}
