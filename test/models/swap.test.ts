import { describe, expect, it } from 'vitest';
import type { ServingModel } from '../../models/serving.ts';
import { openSession, type SessionOpener } from '../../models/session.ts';
import { firstY, installFixture, makeKey, registry, tmpModels, xs } from './helpers.ts';

/**
 * Hot swap under load: runs fired continuously while the serving version flips between 1.0.0 (y = x) and
 * 1.1.0 (y = 2x). No run may fail, each answer must come from the version it names, and a session may be released
 * only after its last run has finished.
 */
describe('hot swap under concurrent inference', () => {
  it('never fails a run, and each result comes from the version it names', async () => {
    const root = tmpModels();
    const key = makeKey();
    installFixture(root, 'scale', '1.0.0', key.privateKey);
    installFixture(root, 'scale', '1.1.0', key.privateKey);

    const released: { pendingAtRelease: number }[] = [];
    const opened: ServingModel[] = [];
    // Real sessions, wrapped to see when each is released and how many runs it still had in flight then.
    const watching: SessionOpener = async (bytes, options, log) => {
      const s = await openSession(bytes, options, log);
      const release = s.session.release.bind(s.session);
      const session = Object.create(s.session) as typeof s.session;
      session.release = async () => {
        const owner = opened.find((m) => m.session === session);
        released.push({ pendingAtRelease: owner?.pending ?? -1 });
        await release();
      };
      return { ...s, session };
    };
    const reg = registry(root, [key.trusted], { openSession: watching });
    const track = () => {
      const m = reg.servingModel('scale');
      if (m && !opened.includes(m)) opened.push(m);
    };
    expect((await reg.activate('scale', '1.0.0')).ok).toBe(true);
    track();

    const results: { model: string; y: number; value: number }[] = [];
    let stop = false;
    const fire = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const value = worker * 1000 + i + 1;
        const batch = 1 + (i % 4);
        const r = await reg.run('scale', xs(batch, value));
        results.push({ model: r.model, y: firstY(r.outputs), value });
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => fire(w));
    const versions = ['1.1.0', '1.0.0'];
    for (let swap = 0; swap < 12; swap++) {
      const outcome = await reg.activate('scale', versions[swap % 2] as string);
      expect(outcome.ok).toBe(true);
      track();
      await new Promise((r) => setTimeout(r, 5));
    }
    stop = true;
    await Promise.all(workers);
    await reg.close();

    expect(results.length).toBeGreaterThan(200);
    const by = (m: string) => results.filter((r) => r.model === m);
    expect(by('scale@1.0.0').length).toBeGreaterThan(0);
    expect(by('scale@1.1.0').length).toBeGreaterThan(0);
    for (const r of results) {
      const k = r.model === 'scale@1.1.0' ? 2 : 1;
      expect(r.y).toBeCloseTo(k * r.value, 3);
    }
    // 13 sessions were opened (1 + 12 swaps), every one released, none with runs still in flight.
    expect(opened.length).toBe(13);
    expect(released.length).toBe(13);
    expect(released.every((r) => r.pendingAtRelease === 0)).toBe(true);
    expect(opened.every((m) => m.isReleased)).toBe(true);
  });

  it('activations of one model are serialised: the last one asked for wins', async () => {
    const root = tmpModels();
    const key = makeKey();
    installFixture(root, 'scale', '1.0.0', key.privateKey);
    installFixture(root, 'scale', '1.1.0', key.privateKey);
    const reg = registry(root, [key.trusted]);
    try {
      const outcomes = await Promise.all([
        reg.activate('scale', '1.0.0'),
        reg.activate('scale', '1.1.0'),
        reg.activate('scale', '1.0.0'),
        reg.activate('scale', '1.1.0'),
      ]);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect(reg.inUse()).toEqual(['scale@1.1.0']);
      expect(reg.history('scale').filter((e) => e.kind === 'activate')).toHaveLength(4);
    } finally {
      await reg.close();
    }
  });
});
