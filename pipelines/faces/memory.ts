import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Db } from '../../storage/db.ts';
import { FaceRepository } from '../../storage/faces.ts';
import { IncrementalClusterer } from './clustering.ts';
import { CROP_SIDE } from './crops.ts';
import type { TrackEmbedder } from './embedder.ts';
import type { FaceTrack } from './tracker.ts';

export interface FaceMemoryDeps {
  readonly db: Db;
  readonly dataDir: string;
  readonly sessionId: string;
  readonly embedder: TrackEmbedder;
  /** Cosine distance within which a track joins a person (the model manifest's tuned threshold by default). */
  readonly threshold: number;
  readonly now?: () => number;
}

/**
 * Where finished face tracks end up: embedded by the track model, their crops saved as one PNG strip, placed
 * into a person by incremental agglomerative clustering, and stored with the person's event for the phone.
 * People are reloaded from the database for each track, so what the wearer changed (names, merges, splits,
 * forgotten people) is what the next track is compared with.
 */
export class FaceMemory {
  private readonly repo: FaceRepository;
  private readonly now: () => number;
  stored = 0;

  constructor(private readonly d: FaceMemoryDeps) {
    this.repo = new FaceRepository(d.db, d.dataDir);
    this.now = d.now ?? Date.now;
  }

  async add(track: FaceTrack): Promise<{ faceId: string; personId: string }> {
    const crops = track.crops.map((c) => c.pixels);
    const { embedding, model } = await this.d.embedder.embed(crops);
    const faceId = randomUUID();
    const cropPath = join('faces', this.d.sessionId, `${faceId}.png`);
    mkdirSync(join(this.d.dataDir, 'faces', this.d.sessionId), { recursive: true });
    await writeStrip(join(this.d.dataDir, cropPath), crops);
    const clusterer = new IncrementalClusterer(this.d.threshold, randomUUID);
    for (const p of this.repo.people(model)) {
      clusterer.people.set(p.id, { id: p.id, sum: p.sum, n: p.tracks, pinned: p.name !== null || p.enrolled });
    }
    const { decision, merges } = clusterer.add(embedding);
    const quality = track.crops.reduce((s, c) => s + c.quality.sharpness, 0) / track.crops.length;
    const nowMs = this.now();
    this.repo.addTrack(
      {
        id: faceId,
        sessionId: this.d.sessionId,
        startTNs: track.startTNs,
        endTNs: track.endTNs,
        seenWallMs: nowMs,
        detections: track.detections,
        crops: crops.length,
        cropPath,
        embedding,
        quality,
        model,
      },
      { personId: decision.personId, isNew: decision.kind === 'new', merges },
      nowMs,
    );
    this.stored++;
    return { faceId, personId: decision.personId };
  }
}

/** The crops side by side in one grey PNG (CROP_SIDE high). */
async function writeStrip(path: string, crops: readonly Uint8Array[]): Promise<void> {
  const w = CROP_SIDE * crops.length;
  const strip = Buffer.alloc(w * CROP_SIDE);
  for (const [k, c] of crops.entries()) {
    for (let y = 0; y < CROP_SIDE; y++)
      strip.set(c.subarray(y * CROP_SIDE, (y + 1) * CROP_SIDE), y * w + k * CROP_SIDE);
  }
  await sharp(strip, { raw: { width: w, height: CROP_SIDE, channels: 1 } })
    .png()
    .toFile(path);
}
