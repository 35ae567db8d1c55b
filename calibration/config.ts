import { z } from 'zod';

/**
 * The `eyeTracking` section of the daemon's config: one strict schema, every field described and bounded.
 * Defaults reproduce Pupil Core's (confidence 0.8 for calibration, I-DT 1.5° / 80–220 ms) unless a comment says why.
 */

const darkPupilSchema = z.strictObject({
  type: z.literal('dark-pupil').describe('classical detector: centre-surround search, starburst edges, robust ellipse'),
  minDiameter: z
    .number()
    .min(0.01)
    .max(0.5)
    .default(0.06)
    .describe('smallest pupil diameter, fraction of the eye image width'),
  maxDiameter: z
    .number()
    .min(0.02)
    .max(0.9)
    .default(0.25)
    .describe('largest pupil diameter, fraction of the eye image width'),
  rays: z.number().int().min(12).max(128).default(32).describe('rays cast to find the pupil edge'),
  minContrast: z
    .number()
    .min(1)
    .max(128)
    .default(12)
    .describe('pupil-to-iris contrast below which there is no pupil, grey levels'),
});

const cnnSchema = z.strictObject({
  type: z
    .literal('cnn')
    .describe("learnt detector: the models registry's `pupil` network (onnxruntime), one inference per eye frame"),
  model: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,63}$/)
    .default('pupil')
    .describe('name of the model in the models registry'),
  minOpen: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('below this P(eye open) no pupil ellipse is reported (confidence is P(open))'),
});

const trackerSchema = z.strictObject({
  maxSizeRatio: z
    .number()
    .min(1.05)
    .max(4)
    .default(1.35)
    .describe('a detection this much larger or smaller than the recent pupil is rejected'),
  maxSpeedPxPerS: z
    .number()
    .min(50)
    .max(10_000)
    .default(700)
    .describe('fastest plausible pupil motion, px/s at 192 px'),
  historyS: z.number().min(0.05).max(10).default(0.5).describe('how far back the reference pupil size looks, s'),
});

const calibrationSchema = z.strictObject({
  auto: z
    .enum(['off', 'session-start'])
    .default('session-start')
    .describe('session-start: a session that opens with the calibration marker calibrates itself from it'),
  searchWindowS: z
    .number()
    .min(1)
    .max(600)
    .default(20)
    .describe('how long after the start the marker is looked for, s'),
  markerGoneMs: z
    .number()
    .int()
    .min(100)
    .max(10_000)
    .default(1000)
    .describe('the choreography is over once the marker has been gone this long'),
  minConfidence: z
    .number()
    .min(0)
    .max(1)
    .default(0.8)
    .describe('pupils below this confidence are not used to calibrate'),
  settleMs: z
    .number()
    .int()
    .min(0)
    .max(2000)
    .default(400)
    .describe('pupils in the first part of each target are skipped (eyes on their way)'),
  validationTargets: z.number().int().min(0).max(20).default(4).describe('last targets held out to validate the fit'),
  outlierDeg: z
    .number()
    .min(0.5)
    .max(20)
    .default(3)
    .describe('observations further than this from the first fit are dropped before the refit, deg'),
  maxAccuracyDeg: z
    .number()
    .min(0.1)
    .max(20)
    .default(2.5)
    .describe('a calibration worse than this is rejected and the previous one kept, deg'),
  minSamplesPerTarget: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(10)
    .describe('targets with fewer observations do not count'),
  targetRadiusDeg: z
    .number()
    .min(0.2)
    .max(10)
    .default(1.5)
    .describe('a marker moving further than this starts a new target, deg'),
  maxReferenceDtMs: z
    .number()
    .min(1)
    .max(200)
    .default(40)
    .describe('a pupil pairs with a marker sighting at most this far away in time'),
});

const gazeSchema = z.strictObject({
  minConfidence: z.number().min(0).max(1).default(0.6).describe('pupils below this confidence are not mapped to gaze'),
  maxBinocularDtMs: z
    .number()
    .min(0.5)
    .max(50)
    .default(10)
    .describe("two eyes' pupils this close in time are mapped together"),
  bufferS: z
    .number()
    .min(0)
    .max(120)
    .default(30)
    .describe('while the first calibration is collected, pupils are kept this long to be mapped once it exists, s'),
});

const slippageSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('estimate headset slippage from the eyeball centre and correct for it'),
  windowS: z.number().min(1).max(120).default(10).describe('recent pupils the drift estimate uses, s'),
  updateEveryS: z.number().min(0.1).max(60).default(0.5).describe('how often the estimate is refreshed, s'),
  ridge: z
    .number()
    .min(0)
    .max(10)
    .default(0.01)
    .describe('pull towards no slip when the eye has looked in few directions'),
  deadbandPx: z.number().min(0).max(20).default(1.5).describe('shifts smaller than this are noise, not slippage, px'),
  recalibratePx: z
    .number()
    .min(1)
    .max(100)
    .default(8)
    .describe('beyond this shift the wearer is asked to recalibrate, px'),
});

const fixationSchema = z.strictObject({
  maxDispersionDeg: z.number().min(0.1).max(10).default(1.5).describe('I-DT dispersion threshold, deg'),
  minDurationMs: z.number().int().min(20).max(5000).default(80).describe('shortest fixation, ms'),
  maxDurationMs: z
    .number()
    .int()
    .min(40)
    .max(60_000)
    .default(220)
    .describe('a fixation this long is closed and a new one started, ms'),
  maxGapMs: z
    .number()
    .int()
    .min(5)
    .max(2000)
    .default(100)
    .describe('a gap in gaze longer than this ends a fixation, ms'),
});

const blinkSchema = z.strictObject({
  onsetConfidence: z.number().min(0).max(1).default(0.3).describe('pupil confidence below which an eye is closing'),
  offsetConfidence: z.number().min(0).max(1).default(0.6).describe('pupil confidence above which it is open again'),
  minDurationMs: z.number().int().min(1).max(1000).default(30).describe('shortest blink, ms'),
  maxDurationMs: z.number().int().min(50).max(5000).default(700).describe('longer closures are not blinks, ms'),
});

export const eyeTrackingConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('run pupil detection, gaze mapping, fixations and blinks'),
    wearer: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('default')
      .describe('whose calibration is used and stored'),
    detector: z
      .discriminatedUnion('type', [darkPupilSchema, cnnSchema])
      .default({ type: 'dark-pupil', minDiameter: 0.06, maxDiameter: 0.25, rays: 32, minContrast: 12 })
      .describe('pupil detector back-end'),
    tracker: trackerSchema
      .default({ maxSizeRatio: 1.35, maxSpeedPxPerS: 700, historyS: 0.5 })
      .describe('per-eye plausibility check of detections'),
    eyeCameraFocal: z
      .number()
      .min(0.3)
      .max(5)
      .default(1.12)
      .describe('eye-camera focal length as a multiple of the eye image width (a property of the camera module)'),
    sceneFallbackHfovDeg: z
      .number()
      .min(20)
      .max(170)
      .default(90)
      .describe('scene camera field of view assumed when no intrinsics are known, deg'),
    calibration: calibrationSchema
      .default(calibrationSchema.parse({}))
      .describe('calibration choreography and acceptance'),
    gaze: gazeSchema.default(gazeSchema.parse({})).describe('gaze mapping of every eye sample'),
    slippage: slippageSchema.default(slippageSchema.parse({})).describe('headset slippage estimate and correction'),
    fixations: fixationSchema.default(fixationSchema.parse({})).describe('online I-DT fixation detection'),
    blinks: blinkSchema.default(blinkSchema.parse({})).describe('blink detection from pupil confidence'),
  })
  .describe('eye tracking: pupils, gaze calibration and mapping, slippage, fixations, blinks');

export type EyeTrackingConfig = z.infer<typeof eyeTrackingConfigSchema>;

/** The defaults, for callers (tests, the calibrate command) that have no config file. */
export function defaultEyeTrackingConfig(): EyeTrackingConfig {
  return eyeTrackingConfigSchema.parse({});
}
