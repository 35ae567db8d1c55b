import { describe, expect, it } from 'vitest';
import { IncrementalClusterer } from '../../../pipelines/faces/clustering.ts';

/** Unit vectors around `k` well-separated directions, with noise: tracks of k people. */
function tracksOf(k: number, perPerson: number, noise: number, seed = 1): { e: Float32Array; person: number }[] {
  let s = seed;
  const rand = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
  const out: { e: Float32Array; person: number }[] = [];
  for (let i = 0; i < k * perPerson; i++) {
    const person = i % k;
    const e = new Float32Array(16).map((_, d) => (d === person ? 1 : 0) + noise * rand());
    const n = Math.hypot(...e);
    out.push({ e: e.map((v) => v / n), person });
  }
  return out;
}

describe('IncrementalClusterer', () => {
  it('finds the number of people without being told, in arrival order', () => {
    let id = 0;
    const c = new IncrementalClusterer(0.5, () => `p${id++}`);
    const assigned = tracksOf(5, 6, 0.4).map((t) => ({ person: t.person, to: c.add(t.e).decision.personId }));
    expect(c.people.size).toBe(5);
    // every person's tracks went to one cluster, and no cluster holds two people
    const byPerson = new Map<number, Set<string>>();
    for (const a of assigned) byPerson.set(a.person, (byPerson.get(a.person) ?? new Set()).add(a.to));
    expect([...byPerson.values()].every((s) => s.size === 1)).toBe(true);
  });

  it('merges two people that a new track shows to be one (average linkage), keeping the pinned one', () => {
    let id = 0;
    const c = new IncrementalClusterer(0.3, () => `p${id++}`);
    const a = Float32Array.from([1, 0, 0]);
    const b = Float32Array.from([Math.cos(0.9), Math.sin(0.9), 0]); // 1 - cos 0.9 = 0.38 > 0.3: apart
    c.add(a);
    c.add(b);
    expect(c.people.size).toBe(2);
    c.people.set('p1', { ...(c.people.get('p1') as NonNullable<ReturnType<typeof c.people.get>>), pinned: true });
    const mid = Float32Array.from([Math.cos(0.45), Math.sin(0.45), 0]);
    const { merges } = c.add(mid);
    expect(merges).toHaveLength(1);
    expect(merges[0]?.into).toBe('p1');
    expect(c.people.size).toBe(1);
    expect(c.people.get('p1')?.n).toBe(3);
  });

  it('keeps strangers apart at a tight threshold', () => {
    let id = 0;
    const c = new IncrementalClusterer(0.01, () => `p${id++}`);
    for (const t of tracksOf(3, 3, 0.6)) c.add(t.e);
    expect(c.people.size).toBeGreaterThan(3);
  });
});
