import { readFileSync } from 'node:fs';
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
import { generateHeldOut, openZooModel, runOver, zooDir } from './heldout.ts';

/**
 * Personalisation on the device: one wearer whose lids sit narrower and more raised than the population's (a
 * neutral face that reads as a squint). A few of their labelled windows fine-tune the personal head; accuracy on
 * their other windows must improve, and a rollback must bring back the head that was active before.
 *
 * The shift (openness -0.35, lower-lid raise +0.9) was chosen on other wearers (seeds 8100, 8200, 8300;
 * docs/emotion.md): the old -0.2/+0.45 is partly inside data version 2 (the population read one such wearer as
 * well as unshifted), this one is not (0.25–0.37 against 0.61–0.65 unshifted). Seed 7300 is used only here.
 */
const MODEL = 'emotion-ship';
const EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'fear', 'surprise', 'disgust'];
const PER_CLASS_TRAIN = 3;
/** Draws of the wearer's labelled windows: one draw's gain ranged 0–10 points on this wearer, the mean is steadier. */
const DRAWS = 10;

describe('personal emotion head', () => {
  const train: LabelledExample[] = [];
  const test: LabelledExample[] = [];
  const all: LabelledExample[] = [];

  beforeAll(async () => {
    const set = generateHeldOut(tmp('glance-emo-wearer-'), [
      ...['--clips', '98', '--seed', '7300', '--wearers', '1'],
      ...['--shift-openness', '-0.35', '--shift-squint', '0.9'],
    ]);
    const session = await openZooModel(MODEL);
    const out = await runOver(session, set);
    await session.release();
    const seen = new Map<number, number>();
    set.labels.forEach((label, i) => {
      const e = { embedding: out.embedding?.[i] as Float32Array, logits: out.logits?.[i] as Float32Array, label };
      all.push(e);
      const k = seen.get(label) ?? 0;
      seen.set(label, k + 1);
      (k < PER_CLASS_TRAIN ? train : test).push(e);
    });
  }, 300_000);

  it('fine-tuned on a handful of the wearer’s labels, it is more accurate on the wearer’s other windows', () => {
    const population = zeroHead(7, all[0]?.embedding.length ?? 0);
    // 3 answers per class stand for a wearer who is neutral as often as the population's data is: its class mix,
    // from the manifest's held-out confusion matrix (neutral about twice as often as each other class).
    const fit = { ...DEFAULT_FIT, balanced: true, prior: populationPrior() };
    const gains = drawsOf(all, DRAWS).map(({ train: answers, test: others }) => {
      const { head } = fitHead(population, answers, fit);
      // Never worse than the population on the answers it was fitted on.
      expect(accuracy(head, answers)).toBeGreaterThanOrEqual(accuracy(population, answers));
      return { before: accuracy(population, others), after: accuracy(head, others) };
    });
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const before = mean(gains.map((g) => g.before));
    const after = mean(gains.map((g) => g.after));
    process.stderr.write(
      `personal head: ${PER_CLASS_TRAIN * 7} labels x ${DRAWS} draws; wearer's other windows ${before.toFixed(3)} -> ` +
        `${after.toFixed(3)} (per draw ${gains.map((g) => (100 * (g.after - g.before)).toFixed(0)).join(' ')} pts)\n`,
    );
    // Measured +0.043 over 15 draws on this wearer (+0.11/+0.14 on the two wearers the shift was chosen on).
    expect(after).toBeGreaterThan(before + 0.02);
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

/** Per class, the share of the population model's held-out windows (rows of its manifest's confusion matrix). */
function populationPrior(): number[] {
  const manifest = JSON.parse(readFileSync(join(zooDir(MODEL), 'manifest.json'), 'utf8')) as {
    metrics: { confusion: { labels: string[]; matrix: number[][] } };
  };
  const { labels, matrix } = manifest.metrics.confusion;
  expect(labels).toEqual(EMOTIONS);
  return matrix.map((row) => row.reduce((a, b) => a + b, 0));
}

/** `count` draws (a fixed LCG) of PER_CLASS_TRAIN windows per class to label; the rest to test on. */
function drawsOf(examples: readonly LabelledExample[], count: number) {
  let state = 1;
  const rnd = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: count }, () => {
    const order = examples.map((_, i) => ({ i, key: rnd() })).sort((a, b) => a.key - b.key);
    const seen = new Map<number, number>();
    const train: LabelledExample[] = [];
    const test: LabelledExample[] = [];
    for (const { i } of order) {
      const e = examples[i] as LabelledExample;
      const k = seen.get(e.label) ?? 0;
      seen.set(e.label, k + 1);
      (k < PER_CLASS_TRAIN ? train : test).push(e);
    }
    return { train, test };
  });
}
