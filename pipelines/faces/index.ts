/**
 * Faces: detect → track → embed → cluster → people. `createFacesStage` builds the scene stage from the config
 * and the model registry; the parts are in the files beside this one.
 */
import type { ModelRegistry } from '../../models/registry.ts';
import type { Db } from '../../storage/db.ts';
import type { FacesConfig } from './config.ts';
import { TrackEmbedder } from './embedder.ts';
import { FaceMemory } from './memory.ts';
import { FacesStage } from './stage.ts';

export { type FacesConfig, facesConfigSchema } from './config.ts';

export interface FacesDeps {
  readonly db: Db;
  readonly dataDir: string;
  readonly sessionId: string;
  readonly config: FacesConfig;
  readonly models: () => Promise<ModelRegistry>;
}

/** The model's sequence length, input side and tuned clustering threshold, as its manifest states them. */
export function faceModelFacts(
  registry: ModelRegistry,
  name: string,
): { seqLen: number; inputSize: number; threshold: number } {
  const manifest = registry.servingModel(name)?.manifest;
  if (manifest === undefined) throw new Error(`face model ${name} is not loaded`);
  const shape = manifest.inputs.find((i) => i.name === 'crops')?.shape ?? [];
  const [, seqLen, inputSize] = shape;
  const clustering = (manifest.metrics as { clustering?: { threshold?: unknown } }).clustering;
  if (typeof seqLen !== 'number' || typeof inputSize !== 'number' || typeof clustering?.threshold !== 'number') {
    throw new Error(
      `${name}@${manifest.version} is not a face-track model (crops shape or clustering threshold missing)`,
    );
  }
  return { seqLen, inputSize, threshold: clustering.threshold };
}

/** Loads the face-track model, then builds the stage whose finished tracks go into face memory. */
export async function createFacesStage(deps: FacesDeps): Promise<FacesStage & { readonly memory: FaceMemory }> {
  const registry = await deps.models();
  const [outcome] = await registry.start([deps.config.model]);
  if (outcome && !outcome.ok) throw new Error(`face model ${outcome.model}: ${outcome.stage}: ${outcome.reason}`);
  const facts = faceModelFacts(registry, deps.config.model);
  const embedder = new TrackEmbedder((feeds) => registry.run(deps.config.model, feeds), facts.seqLen, facts.inputSize);
  const memory = new FaceMemory({
    db: deps.db,
    dataDir: deps.dataDir,
    sessionId: deps.sessionId,
    embedder,
    threshold: deps.config.clusterThreshold ?? facts.threshold,
  });
  const stage = new FacesStage(deps.config, async (track) => {
    await memory.add(track);
  });
  return Object.assign(stage, { memory });
}
