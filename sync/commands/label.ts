import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';

/** cmd/label: the wearer's answer to a label request (active learning) sent as an `events/label-request`. */
export const labelV1 = z.strictObject({
  ...requestV1,
  requestId: z.string().min(1).max(128),
  label: z.string().min(1).max(64),
  note: z.string().max(500).optional(),
});

export const label = defineCommand('label', labelV1, async (request, effects) => {
  const { requestId, label: answer, note } = request;
  await effects.label(note === undefined ? { requestId, label: answer } : { requestId, label: answer, note });
  return { requestId };
});
