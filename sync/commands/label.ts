import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';

/**
 * cmd/label: the wearer's answer to a label request (active learning) sent as an `events/label-request`.
 * `answer` is one of the request's `options`; `label` is the field's earlier name, still accepted.
 */
export const labelV1 = z
  .strictObject({
    ...requestV1,
    requestId: z.string().min(1).max(128),
    answer: z.string().min(1).max(64).optional(),
    label: z.string().min(1).max(64).optional(),
    by: z.string().min(1).max(64).optional(),
  })
  .refine((r) => (r.answer === undefined) !== (r.label === undefined), {
    message: 'give the answer (exactly one of answer, label)',
    path: ['answer'],
  });

export const label = defineCommand('label', labelV1, async (request, effects) => {
  const answer = (request.answer ?? request.label) as string;
  const result = await effects.label({
    requestId: request.requestId,
    answer,
    ...(request.by ? { by: request.by } : {}),
  });
  return result ?? { requestId: request.requestId };
});
