/**
 * Incremental agglomerative clustering of face tracks into people, average linkage on cosine distance, with the
 * number of people unknown: a track joins the person at the smallest average distance if that is within the
 * threshold, else founds a new person; after a join, people now within the threshold of each other merge.
 *
 * Embeddings are L2-normalised, so the average cosine similarity between a track and a person's n tracks is
 * dot(e, sum)/n, and between two people dot(sumA, sumB)/(nA·nB): keeping each person's sum makes every
 * linkage exact at O(people · dim) per track, without the O(tracks²) distance matrix of batch clustering.
 */

export interface PersonCluster {
  readonly id: string;
  sum: Float32Array;
  n: number;
  /** Named or enrolled by the wearer: never merged automatically. */
  readonly pinned: boolean;
}

export type ClusterDecision =
  | { readonly kind: 'joined'; readonly personId: string; readonly distance: number }
  | { readonly kind: 'new'; readonly personId: string };

export interface Merge {
  readonly into: string;
  readonly from: string;
  readonly distance: number;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

export class IncrementalClusterer {
  readonly people = new Map<string, PersonCluster>();

  constructor(
    readonly threshold: number,
    private readonly newId: () => string,
  ) {}

  /** Assigns one track; returns where it went and the merges it caused. */
  add(embedding: Float32Array): { decision: ClusterDecision; merges: Merge[] } {
    let best: PersonCluster | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    for (const p of this.people.values()) {
      const d = 1 - dot(embedding, p.sum) / p.n;
      if (d < bestD) [best, bestD] = [p, d];
    }
    if (best === undefined || bestD > this.threshold) {
      const id = this.newId();
      this.people.set(id, { id, sum: Float32Array.from(embedding), n: 1, pinned: false });
      return { decision: { kind: 'new', personId: id }, merges: [] };
    }
    for (let i = 0; i < embedding.length; i++) best.sum[i] = (best.sum[i] ?? 0) + (embedding[i] ?? 0);
    best.n++;
    return { decision: { kind: 'joined', personId: best.id, distance: bestD }, merges: this.mergeAround(best) };
  }

  /** Merges people that a join brought within the threshold of `grown`, closest first (average linkage). */
  private mergeAround(grown: PersonCluster): Merge[] {
    let current = grown;
    const merges: Merge[] = [];
    for (;;) {
      let other: PersonCluster | undefined;
      let bestD = Number.POSITIVE_INFINITY;
      for (const p of this.people.values()) {
        if (p === current || (p.pinned && current.pinned)) continue;
        const d = 1 - dot(current.sum, p.sum) / (current.n * p.n);
        if (d < bestD) [other, bestD] = [p, d];
      }
      if (other === undefined || bestD > this.threshold) return merges;
      // The pinned (named) one survives; otherwise the larger.
      const [into, from] = other.pinned || other.n > current.n ? [other, current] : [current, other];
      for (let i = 0; i < into.sum.length; i++) into.sum[i] = (into.sum[i] ?? 0) + (from.sum[i] ?? 0);
      into.n += from.n;
      this.people.delete(from.id);
      merges.push({ into: into.id, from: from.id, distance: bestD });
      current = into;
    }
  }
}
