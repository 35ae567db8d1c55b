import { z } from 'zod';

/** The `attention` section: MemX temporal visual attention on the scene stream. */
export const attentionConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('run the attention model (TVA) on the scene stream'),
    model: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,63}$/)
      .default('tva')
      .describe('name of the attention model in the models registry'),
    everyNthFrame: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(1)
      .describe('run the model on every n-th scene frame; the frames between keep the last estimate'),
    enter: z.number().min(0).max(1).default(0.6).describe('attention score at which an episode may start'),
    exit: z.number().min(0).max(1).default(0.4).describe('score below which an episode may end (hysteresis band)'),
    startFrames: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(4)
      .describe('consecutive scored frames at or above `enter` that start an episode (dated from the first)'),
    endFrames: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(6)
      .describe('consecutive scored frames below `exit` that end it'),
    switchDiagonals: z
      .number()
      .min(0)
      .max(20)
      .default(1.5)
      .describe(
        'a region jump of more than this many region diagonals, held for `startFrames`, is a new target: a new episode (0: off)',
      ),
  })
  .refine((c) => c.exit <= c.enter, { message: 'attention.exit must not be above attention.enter' })
  .prefault({});

export type AttentionConfig = z.infer<typeof attentionConfigSchema>;
