import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';

/** cmd/resume: capture again after a pause. */
export const resumeV1 = z.strictObject({ ...requestV1 });

export const resume = defineCommand('resume', resumeV1, async (_request, effects) => {
  await effects.resume();
  return { capture: 'running' };
});
