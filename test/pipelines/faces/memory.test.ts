import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import cv from '../../../device/opencv.ts';
import { modelsConfigSchema } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import { facesConfigSchema } from '../../../pipelines/faces/config.ts';
import { createFacesStage } from '../../../pipelines/faces/index.ts';
import { openDatabase } from '../../../storage/db.ts';
import { FaceRepository } from '../../../storage/faces.ts';
import { SessionRepository } from '../../../storage/sessions.ts';
import { OPENCV_DATA, ROOT, tmp } from '../../helpers/cli.ts';

describe('face memory on a real video', () => {
  it('stores embedded tracks as people, and forgetting them leaves no row or file behind', async () => {
    const dataDir = tmp('glance-facemem-');
    const db = openDatabase(join(dataDir, 'glance.db'));
    new SessionRepository(db).start({ id: 's1', device: 'd', source: 'test', startedWallMs: 1, startedTNs: 0n });
    const models = modelsConfigSchema.parse({
      dir: join(ROOT, 'models/zoo'),
      trustedKeys: [join(ROOT, 'models/keys/dev.pub.pem')],
    });
    const registry = new ModelRegistry({ config: models, trustedKeys: models.trustedKeys.map(readTrustedKey) });
    const stage = await createFacesStage({
      db,
      dataDir,
      sessionId: 's1',
      config: facesConfigSchema.parse({ enabled: true }),
      models: async () => registry,
    });
    const cap = new cv.VideoCapture(join(OPENCV_DATA, 'Megamind.avi'));
    for (let i = 0, m = cap.read(); i < 160 && !m.empty; i++, m = cap.read()) {
      await stage.onFrame(m, BigInt(i) * 41_708_333n);
      m.release();
    }
    cap.release();
    await stage.finish();
    await registry.close();

    const count = (sql: string) => db.prepare(sql).pluck().get() as number;
    expect(stage.memory.stored).toBeGreaterThanOrEqual(2);
    expect(count('SELECT COUNT(*) FROM faces')).toBe(stage.memory.stored);
    expect(count("SELECT COUNT(*) FROM faces WHERE model = 'face-track@1.2.0' AND length(embedding) = 256")).toBe(
      stage.memory.stored,
    );
    const repo = new FaceRepository(db, dataDir);
    const people = repo.people();
    expect(people.length).toBeGreaterThanOrEqual(1);
    expect(count("SELECT COUNT(*) FROM outbox WHERE kind = 'person'")).toBeGreaterThanOrEqual(people.length);
    const crops = readdirSync(join(dataDir, 'faces', 's1'));
    expect(crops).toHaveLength(stage.memory.stored);

    for (const p of people) repo.forget(p.id);
    expect(count('SELECT COUNT(*) FROM faces')).toBe(0);
    expect(count('SELECT COUNT(*) FROM people')).toBe(0);
    expect(readdirSync(join(dataDir, 'faces', 's1'))).toHaveLength(0);
    expect(crops.some((c) => existsSync(join(dataDir, 'faces', 's1', c)))).toBe(false);
    expect(
      count("SELECT COUNT(*) FROM outbox WHERE kind = 'person' AND payload NOT LIKE '%forgotten%' AND sent_ms IS NULL"),
    ).toBe(0);
    db.close();
  }, 180_000);
});
