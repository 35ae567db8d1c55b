import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../device/frames.ts';
import { GazeTrack } from '../../../device/gaze-track.ts';
import { createLogger } from '../../../device/logger.ts';
import { MomentBus } from '../../../device/stages.ts';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import {
  type AttentionStage,
  attentionConfigSchema,
  createAttentionStage,
} from '../../../pipelines/attention/index.ts';
import type { SceneDecision } from '../../../pipelines/segmentation/policy.ts';
import { openDatabase } from '../../../storage/db.ts';
import { SessionRepository } from '../../../storage/sessions.ts';
import { tmp } from '../../helpers/cli.ts';
import { sampleSceneFrames } from './sample-scene.ts';

const FRAMES = 16;

/** One decision for the whole pipeline: attention follows the scene policy's reuse frames. */
describe('attention under the pipeline-wide scene decision', () => {
  let registry: ModelRegistry;
  const frames: Frame[] = [];

  beforeAll(async () => {
    const config = defaultModelsConfig();
    registry = new ModelRegistry({ config, trustedKeys: config.trustedKeys.map(readTrustedKey) });
    const [outcome] = await registry.start(['tva']);
    if (!outcome?.ok) throw new Error(`tva did not load: ${JSON.stringify(outcome)}`);
    frames.push(...sampleSceneFrames(FRAMES));
  });

  afterAll(async () => {
    for (const f of frames) f.mat.release();
    await registry?.close();
  });

  function stage(sceneDecision?: () => SceneDecision | undefined): AttentionStage {
    const db = openDatabase(join(tmp('glance-attn-reuse-'), 'a.db'));
    new SessionRepository(db).start({ id: 's', device: 'd', source: 't', startedWallMs: 1, startedTNs: 1n });
    return createAttentionStage({
      db,
      sessionId: 's',
      config: attentionConfigSchema.parse({}),
      registry,
      run: (feeds) => registry.run('tva', feeds),
      gaze: new GazeTrack(),
      moments: new MomentBus(),
      logger: createLogger('silent'),
      ...(sceneDecision ? { sceneDecision } : {}),
    });
  }

  it('reuses its last TVA output on reuse frames and runs TVA on the others', async () => {
    let current: SceneDecision | undefined;
    const following = stage(() => current);
    const alone = stage();
    // Run on every 3rd frame; frame 13's decision is stale (another frame's): attention must not follow it.
    const runs = (i: number) => i % 3 === 0;
    let lastRunBox: readonly number[] | undefined;
    for (const [i, frame] of frames.entries()) {
      current = {
        index: i,
        tNs: i === 13 ? frame.tNs - 1n : frame.tNs,
        run: runs(i),
        scale: 1,
        policy: 'scripted',
      };
      await following.onScene({ scene: frame, eye0: null, eye1: null });
      await alone.onScene({ scene: frame, eye0: null, eye1: null });
      const mine = following.view.latest();
      const theirs = alone.view.latest();
      if (i < 4) continue; // TVA needs its frame pair (lagFrames = 4) before it runs at all
      if (mine === null) {
        // Frames 4 and 5 are reuse frames before any run: nothing to reuse yet.
        expect(lastRunBox).toBeUndefined();
        continue;
      }
      expect(mine.tNs).toBe(frame.tNs);
      if (runs(i) || i === 13) {
        // Ran TVA on the same inputs as the stage that decides alone.
        expect(mine.box).toEqual(theirs?.box);
        expect(mine.score).toBe(theirs?.score);
        lastRunBox = mine.box;
      } else {
        expect(mine.box).toEqual(lastRunBox);
      }
    }
    const ready = FRAMES - 4;
    const ran = [...frames.keys()].filter((i) => i >= 4 && (runs(i) || i === 13)).length;
    expect(alone.stats()).toMatchObject({ framesSeen: FRAMES, framesScored: ready, framesReused: 0 });
    expect(following.stats()).toMatchObject({ framesSeen: FRAMES, framesScored: ran, framesReused: ready - ran });
  }, 120_000);
});
