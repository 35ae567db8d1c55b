import { z } from 'zod';

/** The input scales the segmentation network runs at: fractions of its base input (the manifest's resize). */
export const SEGMENTATION_SCALES = [1, 0.75, 0.5, 0.25] as const;
export type SegmentationScale = (typeof SEGMENTATION_SCALES)[number];

/** The per-frame policies the daemon can build (device/stages.ts). */
export const SEGMENTATION_POLICIES = ['fixed', 'keyframe', 'resolution', 'both'] as const;
export type SegmentationPolicyName = (typeof SEGMENTATION_POLICIES)[number];

/**
 * The `segmentation` section of the daemon's config. Off by default: on the sample session, every 3rd frame at
 * full scale added 1.0 s to `glance run --once` (12.3 → 13.3 s) and 52 MB of RSS (onnxruntime loads), and no
 * stage reads the label maps yet (docs/segmentation.md).
 */
export const segmentationConfigSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('segment scene frames (per-pixel classes) with the zoo model'),
  model: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
    .default('segmentation')
    .describe('model name in the registry (models.dir/<name>/<version>)'),
  everyNthFrame: z
    .number()
    .int()
    .min(1)
    .max(300)
    .default(3)
    .describe('the fixed-interval policy segments every Nth scene frame (1: every frame)'),
  scale: z
    .union([z.literal(1), z.literal(0.75), z.literal(0.5), z.literal(0.25)])
    .default(1)
    .describe("input scale: 1, 0.75, 0.5 or 0.25 of the model's base input size"),
  policy: z
    .enum(SEGMENTATION_POLICIES)
    .default('fixed')
    .describe(
      'which frames run the network, at which scale: fixed (everyNthFrame at scale), keyframe (the RL key scheduler; ' +
        'other frames warp the last key map by optical flow), resolution (the RL resolution policy: a scale or reuse), ' +
        'both (keyframe decides run or warp, resolution the key frames’ scale). Not fixed: attention follows the same decision',
    ),
});

export type SegmentationConfig = z.infer<typeof segmentationConfigSchema>;
