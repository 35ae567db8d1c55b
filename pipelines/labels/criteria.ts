import type { NumpyRandom } from './numpy-random.ts';

/**
 * Active-learning criteria, a port of tools/train/glance_train/active/criteria.py: each scores the candidates,
 * higher = more worth asking about. Arithmetic follows numpy's order where it could change a choice (pairwise
 * sums, random draws in the same order), so the port picks what the original picks.
 */

export interface CandidateView {
  /** n rows of class probabilities from the current model (rows may differ in length: kinds differ). */
  readonly probs: readonly (readonly number[])[];
  /** m × n × C probabilities from m committee members (several model versions), when every candidate has them. */
  readonly committee?: readonly (readonly (readonly number[])[])[] | undefined;
  /** n: how representative each candidate is of the pool, when embeddings are known. */
  readonly density?: readonly number[] | undefined;
}

export type Criterion = (c: CandidateView, rng: NumpyRandom) => number[];

/** numpy's pairwise summation (sequential below 8, eight accumulators up to 128, halves beyond). */
export function pairwiseSum(a: readonly number[], start = 0, n = a.length): number {
  if (n < 8) {
    let s = 0;
    for (let i = start; i < start + n; i++) s += a[i] as number;
    return s;
  }
  if (n <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => a[start + j] as number);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as [number, number, number, number, number, number, number, number];
    let s = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) s += a[start + i] as number;
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

const clip = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

function rowEntropy(p: readonly number[]): number {
  return -pairwiseSum(p.map((v) => clip(v, 1e-12, 1) * Math.log(clip(v, 1e-12, 1))));
}

export const leastConfidence: Criterion = (c) => c.probs.map((p) => 1 - Math.max(...p));

export const margin: Criterion = (c) =>
  c.probs.map((p) => {
    const sorted = [...p].sort((a, b) => a - b);
    const top = sorted[sorted.length - 1] ?? 0;
    const second = sorted[sorted.length - 2] ?? 0;
    return -(top - second); // a small gap between the two likeliest classes = informative
  });

export const entropy: Criterion = (c) => c.probs.map(rowEntropy);

/** Mean KL divergence of the members from their consensus (McCallum & Nigam); entropy without a committee. */
export const queryByCommittee: Criterion = (c, rng) => {
  const members = c.committee;
  if (members === undefined || members.length === 0) return entropy(c, rng);
  const m = members.length;
  return c.probs.map((_, i) => {
    const rows = members.map((member) => (member[i] as readonly number[]).map((v) => clip(v, 1e-12, 1)));
    const width = (rows[0] as number[]).length;
    const consensus = Array.from({ length: width }, (_, j) => {
      let s = 0;
      for (const row of rows) s += row[j] as number;
      return s / m;
    });
    let mean = 0;
    for (const row of rows) {
      mean += pairwiseSum(row.map((v, j) => v * (Math.log(v) - Math.log(consensus[j] as number))));
    }
    return mean / m;
  });
};

/** Information density (Settles & Craven): entropy × representativeness; entropy when density is unknown. */
export const densityWeighted: Criterion = (c, rng) => {
  const h = entropy(c, rng);
  const d = c.density;
  return d === undefined ? h : h.map((v, i) => v * Math.max(d[i] as number, 1e-12));
};

export const random: Criterion = (c, rng) => rng.randomArray(c.probs.length);

export const CRITERIA: Readonly<Record<string, Criterion>> = {
  uncertainty: leastConfidence,
  margin,
  entropy,
  qbc: queryByCommittee,
  density: densityWeighted,
  random,
};
export const CRITERION_NAMES = Object.keys(CRITERIA);

/** 0 for the best candidate; ties broken at random, as in the original (`ranks`). */
export function ranks(scores: readonly number[], rng: NumpyRandom): number[] {
  const scale = Math.max(...scores.map(Math.abs)) + 1e-12;
  const jitter = rng.randomArray(scores.length).map((u) => u * 1e-9 * scale);
  const key = scores.map((s, i) => -(s + (jitter[i] as number)));
  const order = key.map((_, i) => i).sort((a, b) => (key[a] as number) - (key[b] as number) || a - b);
  const out = new Array<number>(scores.length);
  order.forEach((item, rank) => {
    out[item] = rank;
  });
  return out;
}

/**
 * Mean Gaussian-kernel similarity of each embedding to the others (bandwidth: the median squared distance), as
 * the original computes it over the full n × n matrix. Typed arrays: n = 500 is 250,000 kernel values.
 */
export function densityFromEmbeddings(emb: readonly (readonly number[])[]): number[] {
  const n = emb.length;
  const sq = emb.map((e) => pairwiseSum(e.map((v) => v * v)));
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = emb[i] as readonly number[];
    for (let j = 0; j < n; j++) {
      const b = emb[j] as readonly number[];
      let dot = 0;
      for (let k = 0; k < a.length; k++) dot += (a[k] as number) * (b[k] as number);
      d2[i * n + j] = Math.max((sq[i] as number) + (sq[j] as number) - 2 * dot, 0);
    }
  }
  const positive = d2.filter((v) => v > 0).sort();
  const bandwidth = positive.length > 0 ? median(positive) : 1;
  const out: number[] = [];
  const row = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) row[j] = Math.exp(-(d2[i * n + j] as number) / bandwidth);
    out.push(pairwiseSum(row) / n);
  }
  return out;
}

/** Median of ascending values. */
function median(s: Float64Array): number {
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
