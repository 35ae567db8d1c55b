import { z } from 'zod';
import { defineCommand, requestV1 } from './command.ts';
import { modelName, modelVersion } from './model-ref.ts';

/**
 * cmd/models/install: install and activate a model version the registry can reach, through its safe path
 * (signature, sha256 and inputs/outputs checked, warmed up before the swap). The reply says activated or why not.
 */
export const modelsInstallV1 = z.strictObject({
  ...requestV1,
  name: modelName,
  version: modelVersion,
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const modelsInstall = defineCommand('models/install', modelsInstallV1, (request, effects) => {
  const { name, version, sha256 } = request;
  return effects.installModel(sha256 === undefined ? { name, version } : { name, version, sha256 });
});
