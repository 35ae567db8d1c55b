import type { EyeTrackingConfig } from '../config.ts';
import { CnnPupilDetector, type CnnRun } from './cnn-pupil-detector.ts';
import { DarkPupilDetector } from './dark-pupil-detector.ts';
import type { AsyncPupilDetector } from './types.ts';

// A file of its own so that the daemon's per-frame path (create-detector.ts) never loads onnxruntime.
type DetectorConfig = EyeTrackingConfig['detector'];

/**
 * Either detector behind the batched, asynchronous interface, so both are measured on the same frames by the
 * same code. `run` is the model's inference (`(f) => registry.run(config.model, f)`), needed only for `cnn`.
 */
export function createAsyncPupilDetector(config: DetectorConfig, run?: CnnRun): AsyncPupilDetector {
  switch (config.type) {
    case 'dark-pupil': {
      const d = new DarkPupilDetector(config);
      return { name: d.name, detectBatch: async (images) => images.map((img) => d.detect(img)) };
    }
    case 'cnn':
      if (run === undefined) throw new Error('the cnn pupil detector needs the model registry (a run function)');
      return new CnnPupilDetector(run, { inputSize: 64, minOpen: config.minOpen });
  }
}
