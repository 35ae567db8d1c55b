import { z } from 'zod';

const MB = 1_000_000;

/** The `snippets` section: compact clips of attended moments, and how much of the disk they may take. */
export const snippetsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('record snippets of the moments the attention stage reports'),
    capture: z
      .enum(['recording', 'paused'])
      .default('recording')
      .describe(
        'capture state until the wearer chooses one (glance capture, the phone); a device can ship paused. The choice, once made, is kept',
      ),
    preSeconds: z.number().min(0).max(30).default(2).describe('seconds of video kept before a moment starts'),
    postSeconds: z.number().min(0).max(30).default(2).describe('seconds recorded after it ends'),
    maxSeconds: z.number().min(1).max(600).default(60).describe('a longer moment is split into clips of this length'),
    width: z
      .number()
      .int()
      .min(64)
      .max(3840)
      .default(320)
      .describe('clip width in pixels; the height follows the scene (or the crop) aspect ratio'),
    fps: z.number().min(1).max(120).default(30).describe('frame rate written into the clip (the scene camera rate)'),
    gazeCrop: z
      .number()
      .min(0.2)
      .max(1)
      .default(1)
      .describe(
        'fraction of the scene width/height a clip keeps, centred on the gaze and following it (1: whole frame)',
      ),
    retention: z
      .strictObject({
        budgetMb: z.number().min(1).default(2000).describe('megabytes all snippets may take'),
        maxAgeDays: z.number().min(0).default(30).describe('synced snippets older than this go (0: keep while room)'),
        minFreeMb: z.number().min(0).default(200).describe('free space kept on the disk whatever the budget says'),
      })
      .prefault({}),
  })
  .prefault({});

export type SnippetsConfig = z.infer<typeof snippetsConfigSchema>;

export function retentionPolicyOf(c: SnippetsConfig['retention']) {
  return { budgetBytes: c.budgetMb * MB, maxAgeDays: c.maxAgeDays, minFreeBytes: c.minFreeMb * MB };
}
