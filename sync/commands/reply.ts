import { z } from 'zod';

export const REPLY_ERRORS = ['too_large', 'malformed_json', 'unknown_command', 'invalid', 'failed'] as const;
export type ReplyError = (typeof REPLY_ERRORS)[number];

/** cmd/<name>/reply: the request's correlation id (null when it could not be read), and a result or an error. */
export const commandReplyV1 = z.discriminatedUnion('ok', [
  z.strictObject({
    v: z.literal(1),
    command: z.string(),
    correlationId: z.string().nullable(),
    ok: z.literal(true),
    result: z.unknown().optional(),
  }),
  z.strictObject({
    v: z.literal(1),
    command: z.string(),
    correlationId: z.string().nullable(),
    ok: z.literal(false),
    error: z.strictObject({ code: z.enum(REPLY_ERRORS), message: z.string() }),
  }),
]);
export type CommandReplyV1 = z.infer<typeof commandReplyV1>;
