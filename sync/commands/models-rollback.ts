import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';
import { modelName } from './model-ref.ts';

/** cmd/models/rollback: return a model to its previous version; the reply names the version now in use. */
export const modelsRollbackV1 = z.strictObject({ ...requestV1, name: modelName });

export const modelsRollback = defineCommand('models/rollback', modelsRollbackV1, (request, effects) =>
  effects.rollbackModel({ name: request.name }),
);
