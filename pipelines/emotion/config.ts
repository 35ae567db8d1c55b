import { z } from 'zod';

/** The `emotion` section of the daemon's config (EMOShip: the wearer's emotion and its cause). */
export const emotionConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'run the emotion stage (needs its model). Off by default: trained on synthetic data only, it still reports two weak fear episodes on the bundled (neutral) sample where the pupil swings with the light (docs/emotion.md)',
      ),
    model: z
      .string()
      .min(1)
      .default('emotion-ship')
      .describe('emotion model: emotion-ship (eye + attended scene) or emotion-eye (eye only)'),
    eye: z.enum(['eye0', 'eye1']).default('eye0').describe('the eye stream whose crops the model reads'),
    rateHz: z
      .number()
      .min(0.25)
      .max(8)
      .default(2)
      .describe("inferences per second; steps are sampled at the model's own step rate (its manifest's stepHz)"),
    onsetProbability: z.number().min(0).max(1).default(0.5).describe('an episode starts at or above this'),
    offsetProbability: z.number().min(0).max(1).default(0.3).describe('and ends below this (hysteresis)'),
    minSteps: z.number().int().min(1).max(20).default(2).describe('inferences a crossing must hold'),
    minDurationS: z
      .number()
      .min(0)
      .max(30)
      .default(1)
      .describe('an episode shorter than this (onset to offset) is no emotion: not recorded, not a moment'),
    momentProbability: z
      .number()
      .min(0)
      .max(1)
      .default(0.7)
      .describe('an episode this strong is a moment: it triggers a snippet'),
    neutralPrior: z
      .number()
      .gt(0)
      .lt(1)
      .nullable()
      .default(0.5)
      .describe(
        "share of the time the wearer shows no emotion: the model's probabilities are re-weighted from the class shares it was trained on (neutral 0.25 in the synthetic data) to neutral = this, the rest shared equally (Bayes' rule for a changed prior); null keeps the model's own",
      ),
    causeWindowS: z.number().min(0.5).max(10).default(3).describe('seconds before the onset pooled for the cause'),
    maxSceneAgeMs: z.number().min(10).max(5000).default(500).describe('older scene crops count as missing'),
    pupilMmPerWidth: z
      .number()
      .min(1)
      .max(200)
      .default(30.75)
      .describe("pupil diameter in mm per eye-image width (the synthetic eye camera's: 0.16 mm/px at 192 px)"),
    personalHead: z.boolean().default(true).describe("apply the wearer's active personal head when there is one"),
  })
  .refine((c) => c.offsetProbability <= c.onsetProbability, 'offsetProbability must not exceed onsetProbability');

export type EmotionConfig = z.infer<typeof emotionConfigSchema>;
