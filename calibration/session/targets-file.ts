import { z } from 'zod';
import type { NaturalTarget } from './references.ts';

const time = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,19}$/)]);

const targetSchema = z
  .strictObject({
    x: z.number().describe('scene pixel the wearer looked at'),
    y: z.number(),
    startMs: z.number().nonnegative().optional().describe('from the first frame of the session, ms'),
    endMs: z.number().nonnegative().optional(),
    startNs: time.optional().describe('on the session clock (the .ts files), ns'),
    endNs: time.optional(),
    role: z.enum(['calibration', 'validation']).optional().describe('default: the last targets validate'),
  })
  .refine(
    (t) => (t.startMs !== undefined && t.endMs !== undefined) !== (t.startNs !== undefined && t.endNs !== undefined),
    {
      message: 'give either startMs/endMs or startNs/endNs',
    },
  );

/**
 * The natural-feature targets file (`glance calibrate gaze --targets FILE.json`, or the phone's calibrate
 * command): points in the scene the wearer looked at, and when.
 *
 *   { "version": 1, "targets": [ { "x": 320, "y": 240, "startMs": 4000, "endMs": 5000 }, … ] }
 */
export const naturalTargetsSchema = z.strictObject({
  version: z.literal(1).default(1),
  targets: z.array(targetSchema).min(1),
});

/** Targets on the session clock; `originNs` is the session's first frame time, for the `…Ms` form. */
export function parseNaturalTargets(raw: unknown, originNs: bigint): NaturalTarget[] {
  const parsed = naturalTargetsSchema.parse(raw);
  return parsed.targets.map((t) => {
    const startNs =
      t.startNs !== undefined ? BigInt(t.startNs) : originNs + BigInt(Math.round((t.startMs as number) * 1e6));
    const endNs = t.endNs !== undefined ? BigInt(t.endNs) : originNs + BigInt(Math.round((t.endMs as number) * 1e6));
    if (endNs <= startNs) throw new Error(`target at (${t.x}, ${t.y}) ends before it starts`);
    return { x: t.x, y: t.y, startNs, endNs, ...(t.role ? { role: t.role } : {}) };
  });
}
