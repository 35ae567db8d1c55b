import { z } from 'zod';

/** What the commands do to the daemon. The composition root passes these in (pause really pauses capture). */
export interface CommandEffects {
  pause(request: { readonly reason?: string }): void | Promise<void>;
  resume(): void | Promise<void>;
  calibrate(request: { readonly points: 5 | 9 }): CalibrationStarted | Promise<CalibrationStarted>;
  label(request: LabelAnswer): unknown;
  installModel(request: ModelRef & { readonly sha256?: string }): ModelInstalled | Promise<ModelInstalled>;
  rollbackModel(request: { readonly name: string }): ModelRef | Promise<ModelRef>;
  namePerson(request: { readonly personId: string; readonly name: string; readonly enrolled: boolean }): PersonView;
  mergePeople(request: { readonly into: string; readonly from: readonly string[] }): PersonView;
  splitPerson(request: { readonly personId: string; readonly faceIds: readonly string[] }): PersonView;
  forgetPerson(request: { readonly personId: string }): { readonly faces: number; readonly files: number };
  /** Absent where the build keeps no personal heads: the command is then refused with that reason. */
  rollbackPersonalHead?(request: { readonly model?: string }): unknown;
}

/** A person as a people command replies with it. */
export interface PersonView {
  readonly id: string;
  readonly name: string | null;
  readonly enrolled: boolean;
  readonly tracks: number;
}

export interface CalibrationStarted {
  readonly sessionId: string;
}
export interface LabelAnswer {
  readonly requestId: string;
  /** One of the options the request offered. */
  readonly answer: string;
  /** Who answered (the phone app's user), when it says. */
  readonly by?: string;
}

/**
 * Thrown by an effect when a well-formed request cannot be honoured as asked (an unknown id, a duplicate): the
 * reply is an `invalid` error with this message, and the effect must have changed nothing.
 */
export class InvalidRequestError extends Error {}
export interface ModelRef {
  readonly name: string;
  readonly version: string;
}
export interface ModelInstalled {
  readonly activated: boolean;
  /** Why the model was refused (signature, checksum, input/output mismatch), when it was. */
  readonly reason?: string;
}

/** Fields every command request carries: the schema version and the id its reply will echo. */
export const requestV1 = {
  v: z.literal(1),
  correlationId: z.string().min(1).max(128),
};

export type Prepared = { readonly run: (effects: CommandEffects) => Promise<unknown> } | { readonly error: string };

/** One command: `cmd/<name>`, its request schema, and what it does. */
export interface Command {
  readonly name: string;
  /** Validates a request; only a valid one yields something to run, so an invalid one can change nothing. */
  prepare(request: unknown): Prepared;
}

export function defineCommand<S extends z.ZodType>(
  name: string,
  schema: S,
  run: (request: z.infer<S>, effects: CommandEffects) => unknown,
): Command {
  return {
    name,
    prepare(request) {
      const parsed = schema.safeParse(request);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return { error: `${issue?.path.join('.') || '(request)'}: ${issue?.message ?? 'invalid'}` };
      }
      return { run: async (effects) => run(parsed.data, effects) };
    },
  };
}
