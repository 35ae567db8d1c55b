import { z } from 'zod';
import { CRITERION_NAMES } from './criteria.ts';
import { REXP4_DEFAULTS } from './rexp4.ts';

/** `labels:` in the daemon's config: the active-learning queue that asks the wearer about stored records. */
export const labelsConfigSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('ask the wearer to label records (the phone must be paired)'),
  maxPerHour: z.number().int().min(0).max(120).default(4).describe('label requests sent per rolling hour'),
  maxOpen: z.number().int().min(1).max(100).default(3).describe('unanswered requests outstanding at once'),
  expireAfterH: z
    .number()
    .min(0.1)
    .max(24 * 30)
    .default(24)
    .describe('an unanswered request stops blocking new ones and no longer trains the bandit after this'),
  intervalS: z.number().min(1).max(3600).default(60).describe('how often the queue looks for records to ask about'),
  poolSize: z.number().int().min(1).max(10_000).default(500).describe('newest unasked records considered'),
  criteria: z
    .array(z.enum(CRITERION_NAMES as [string, ...string[]]))
    .min(1)
    .default([...CRITERION_NAMES])
    .refine((c) => new Set(c).size === c.length, 'criteria must not repeat')
    .describe("REXP4's experts"),
  restartPeriod: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(REXP4_DEFAULTS.restart)
    .describe('answers between REXP4 weight restarts'),
  exploration: z.number().min(0).max(1).default(REXP4_DEFAULTS.gamma).describe("REXP4's exploration rate γ"),
  learningRate: z.number().gt(0).max(100).default(REXP4_DEFAULTS.eta).describe("REXP4's η"),
  adviceScale: z.number().gt(0).max(1000).default(REXP4_DEFAULTS.adviceScale).describe('τ in advice ∝ exp(−rank/τ)'),
  personaliseEvery: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(10)
    .describe(
      "refit the wearer's personal emotion head after every this many emotion answers (0: never); each refit uses all of them (docs/labels.md: why 10)",
    ),
  seed: z.number().int().min(0).default(0).describe('the queue’s random generator (numpy-compatible)'),
});

export type LabelsConfig = z.infer<typeof labelsConfigSchema>;
