import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../models/registry.ts';
import { blurFacesInVideo, type EnrolledMatcher } from '../pipelines/faces/blur.ts';
import { dot } from '../pipelines/faces/clustering.ts';
import type { FacesConfig } from '../pipelines/faces/config.ts';
import { FaceDetector } from '../pipelines/faces/detector.ts';
import { TrackEmbedder } from '../pipelines/faces/embedder.ts';
import { faceModelFacts } from '../pipelines/faces/index.ts';
import type { Db } from '../storage/db.ts';
import { FaceRepository } from '../storage/faces.ts';
import { fileDigest } from '../sync/transfer/file-digest.ts';
import type { PrepareFileHook } from '../sync/transfer/sender.ts';

const HAAR = '/usr/share/opencv4/haarcascades';
const BLURRED = '.blurred.mp4';

/**
 * The sync path's face filter: before a snippet's first chunk leaves the device, a copy with the faces of people
 * not enrolled blurred is written beside it and sent instead. Two cascades at a lower bar than the faces stage
 * (a false face costs an extra blur, a missed one costs someone's privacy): minNeighbors 1, the cascades' lowest.
 * At 2, a dim face behind a brighter one in a 320 px recorded snippet stayed visible for four frames once the
 * bright face was blurred (test/pipelines/faces/recorded-snippet-privacy.test.ts). With face memory on and enrolled
 * people stored, each face track in the snippet is embedded and a match to an enrolled person stays visible.
 */
export function snippetBlurHook(deps: {
  readonly config: FacesConfig;
  readonly db: Db;
  readonly dataDir: string;
  readonly models: () => Promise<ModelRegistry>;
  readonly logger: Logger;
}): PrepareFileHook | undefined {
  if (!deps.config.blurSnippets) return undefined;
  const detectors = ['haarcascade_frontalface_default.xml', 'haarcascade_frontalface_alt2.xml']
    .map((c) => `${HAAR}/${c}`)
    .filter((c) => existsSync(c))
    .map((cascade) => new FaceDetector({ cascade, detectWidth: 480, minSize: 24, minNeighbors: 1 }));
  if (detectors.length === 0) throw new Error(`face blurring needs OpenCV's cascades in ${HAAR} (opencv-data)`);
  return async (transfer) => {
    if (transfer.kind !== 'snippet' || transfer.path.endsWith(BLURRED)) return undefined;
    const out = transfer.path.replace(/\.mp4$/, '') + BLURRED;
    const enrolled = deps.config.enabled ? await enrolledMatcher(deps) : undefined;
    const report = await blurFacesInVideo(transfer.path, out, { detectors, ...(enrolled ? { enrolled } : {}) });
    deps.logger.info({ snippet: transfer.recordId, ...report }, 'snippet faces blurred for sync');
    return { path: out, ...(await fileDigest(out)) };
  };
}

/** Matches a track against the enrolled people's average embeddings; undefined when nobody is enrolled. */
async function enrolledMatcher(deps: {
  readonly config: FacesConfig;
  readonly db: Db;
  readonly dataDir: string;
  readonly models: () => Promise<ModelRegistry>;
}): Promise<EnrolledMatcher | undefined> {
  const people = new FaceRepository(deps.db, deps.dataDir).people().filter((p) => p.enrolled && p.tracks > 0);
  if (people.length === 0) return undefined;
  const registry = await deps.models();
  await registry.start([deps.config.model]);
  const facts = faceModelFacts(registry, deps.config.model);
  const embedder = new TrackEmbedder((f) => registry.run(deps.config.model, f), facts.seqLen, facts.inputSize);
  const threshold = deps.config.clusterThreshold ?? facts.threshold;
  return async (track) => {
    if (track.crops.length === 0) return false;
    const { embedding, model } = await embedder.embed(track.crops.map((c) => c.pixels));
    return people.some((p) => p.model === model && 1 - dot(embedding, p.sum) / p.tracks <= threshold);
  };
}
