import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';

/** cmd/calibrate: start a gaze calibration with 5 or 9 targets; the reply names the calibration session. */
export const calibrateV1 = z.strictObject({
  ...requestV1,
  points: z.union([z.literal(5), z.literal(9)]).default(5),
});

export const calibrate = defineCommand('calibrate', calibrateV1, (request, effects) =>
  effects.calibrate({ points: request.points }),
);
