import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';
import { modelName } from './model-ref.ts';

/**
 * cmd/personal-head/rollback: return the wearer's personal emotion head to the version active before the current
 * one (none: the population model alone). `model` names the base model (default: the emotion stage's). Refused,
 * with the reason, when no head is active; the reply is the `events/personal-head` record of the rollback.
 */
export const personalHeadRollbackV1 = z.strictObject({ ...requestV1, model: modelName.optional() });

export const personalHeadRollback = defineCommand(
  'personal-head/rollback',
  personalHeadRollbackV1,
  (request, effects) => {
    if (!effects.rollbackPersonalHead) throw new Error('personal heads are not kept in this configuration');
    return effects.rollbackPersonalHead(request.model ? { model: request.model } : {});
  },
);
