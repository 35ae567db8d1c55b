import { defaultModelsConfig, type ModelsConfig } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import type { CnnRun } from './cnn-pupil-detector.ts';

export interface PupilModel {
  readonly run: CnnRun;
  /** `name@version` serving. */
  readonly model: string;
  close(): Promise<void>;
}

/**
 * The pupil network through a models registry of its own, for tools and tests that have no daemon: the same
 * checks as on the device (signature, sha256, I/O, warm-up, golden outputs) before anything runs. The daemon
 * passes its own registry's `run` instead.
 */
export async function openPupilModel(
  config: ModelsConfig = defaultModelsConfig(),
  name = 'pupil',
): Promise<PupilModel> {
  const registry = new ModelRegistry({ config, trustedKeys: config.trustedKeys.map(readTrustedKey) });
  const [outcome] = await registry.start([name]);
  if (outcome === undefined || !outcome.ok) {
    await registry.close();
    const why = outcome === undefined ? 'no version installed' : `${outcome.stage}: ${outcome.reason}`;
    throw new Error(`pupil model ${name} did not load (${why})`);
  }
  return { run: (feeds) => registry.run(name, feeds), model: outcome.model, close: () => registry.close() };
}
