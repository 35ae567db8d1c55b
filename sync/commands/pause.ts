import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';

/** cmd/pause: stop capturing (the wearer wants privacy); the reply comes once capture has stopped. */
export const pauseV1 = z.strictObject({ ...requestV1, reason: z.string().max(200).optional() });

export const pause = defineCommand('pause', pauseV1, async (request, effects) => {
  await effects.pause(request.reason === undefined ? {} : { reason: request.reason });
  return { capture: 'paused' };
});
