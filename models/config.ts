import { z } from 'zod';

/**
 * The `models` section of the daemon's config: where the versioned models live, which signing keys the device
 * trusts, and how onnxruntime runs them. Strict like every other section: a typo must fail at start.
 */
export const modelsConfigSchema = z
  .strictObject({
    dir: z
      .string()
      .min(1)
      .default('models/zoo')
      .describe('models directory, laid out <dir>/<name>/<version>/{model.onnx,manifest.json,golden.json}'),
    trustedKeys: z
      .array(z.string().min(1))
      .min(1)
      .default(['models/keys/dev.pub.pem'])
      .describe(
        'PEM files of the ed25519 public keys whose signatures the device accepts. The default is the ' +
          "repository's DEVELOPMENT key, whose private half is public: replace it on any real device",
      ),
    executionProviders: z
      .array(z.enum(['cpu', 'cuda', 'tensorrt']))
      .min(1)
      .default(['cpu'])
      .describe('onnxruntime execution providers in order of preference; unavailable ones fall back to cpu (logged)'),
    intraOpThreads: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(1)
      .describe('threads inside one operator (0: onnxruntime decides); 1 leaves the other cores to the pipeline'),
    interOpThreads: z.number().int().min(0).max(64).default(1).describe('threads across independent operators'),
    warmupRuns: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('inference runs on a new model before it replaces the serving one'),
  })
  .default({
    dir: 'models/zoo',
    trustedKeys: ['models/keys/dev.pub.pem'],
    executionProviders: ['cpu'],
    intraOpThreads: 1,
    interOpThreads: 1,
    warmupRuns: 3,
  });

export type ModelsConfig = z.infer<typeof modelsConfigSchema>;
export type ExecutionProviderName = ModelsConfig['executionProviders'][number];

export function defaultModelsConfig(): ModelsConfig {
  return modelsConfigSchema.parse(undefined);
}
