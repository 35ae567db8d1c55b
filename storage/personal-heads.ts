import type { Db } from './db.ts';

export interface HeadWeights {
  readonly classes: number;
  readonly dim: number;
  /** classes x dim, row-major. */
  readonly w: Float32Array;
  readonly b: Float32Array;
}

/** float32 LE: W then b, the layout of personal_heads.weights. */
export function encodeHead(head: HeadWeights): Buffer {
  const all = new Float32Array(head.w.length + head.b.length);
  all.set(head.w, 0);
  all.set(head.b, head.w.length);
  return Buffer.from(all.buffer);
}

export function decodeHead(classes: number, dim: number, bytes: Buffer): HeadWeights {
  const n = classes * dim + classes;
  if (bytes.byteLength !== n * 4) throw new Error(`head weights are ${bytes.byteLength} bytes, want ${n * 4}`);
  const all = new Float32Array(n);
  for (let i = 0; i < n; i++) all[i] = bytes.readFloatLE(i * 4);
  return { classes, dim, w: all.slice(0, classes * dim), b: all.slice(classes * dim) };
}

export interface StoredHead {
  readonly model: string;
  readonly version: number;
  readonly base: string;
  readonly parent: number | null;
  readonly examples: number;
  readonly metrics: Record<string, number>;
  readonly head: HeadWeights;
}

interface HeadRow {
  model: string;
  version: number;
  base: string;
  parent: number | null;
  classes: number;
  dim: number;
  weights: Buffer;
  examples: number;
  metrics: string;
}

/**
 * Personal heads, versioned like models: each fit is a new version (never overwritten), activations and rollbacks
 * are appended events, and the active head is the top of the activation stack they describe — so a rollback
 * returns to the head that was active before, or to none (the population model) when there was none.
 */
export class PersonalHeadRepository {
  constructor(private readonly db: Db) {}

  /** Stores a new version (parent: the version it was fine-tuned from) and activates it; returns its version. */
  save(
    model: string,
    base: string,
    head: HeadWeights,
    parent: number | null,
    examples: number,
    metrics: Record<string, number>,
    nowMs = Date.now(),
  ): number {
    return this.db.transaction(() => {
      const last = this.db.prepare('SELECT MAX(version) FROM personal_heads WHERE model = ?').pluck().get(model) as
        | number
        | null;
      const version = (last ?? 0) + 1;
      this.db
        .prepare(
          `INSERT INTO personal_heads (model, version, base, parent, classes, dim, weights, examples, metrics, created_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          model,
          version,
          base,
          parent,
          head.classes,
          head.dim,
          encodeHead(head),
          examples,
          JSON.stringify(metrics),
          nowMs,
        );
      this.event(model, version, 'activate', nowMs);
      return version;
    })();
  }

  /** The activation stack: each activation pushes, each rollback pops (heads.ts mirrors models/store.ts). */
  private stack(model: string): (number | null)[] {
    const events = this.db
      .prepare('SELECT version, kind FROM personal_head_events WHERE model = ? ORDER BY id')
      .all(model) as { version: number | null; kind: 'activate' | 'rollback' }[];
    const stack: (number | null)[] = [];
    for (const e of events) {
      if (e.kind === 'activate') stack.push(e.version);
      else stack.pop();
    }
    return stack;
  }

  activeVersion(model: string): number | null {
    return this.stack(model).at(-1) ?? null;
  }

  active(model: string): StoredHead | null {
    const v = this.activeVersion(model);
    return v === null ? null : this.get(model, v);
  }

  get(model: string, version: number): StoredHead | null {
    const r = this.db.prepare('SELECT * FROM personal_heads WHERE model = ? AND version = ?').get(model, version) as
      | HeadRow
      | undefined;
    if (!r) return null;
    return {
      model: r.model,
      version: r.version,
      base: r.base,
      parent: r.parent,
      examples: r.examples,
      metrics: JSON.parse(r.metrics) as Record<string, number>,
      head: decodeHead(r.classes, r.dim, r.weights),
    };
  }

  activate(model: string, version: number, nowMs = Date.now()): void {
    if (!this.get(model, version)) throw new Error(`no personal head ${model}#${version}`);
    this.event(model, version, 'activate', nowMs);
  }

  /** Back to the head active before the current one (null: the population model); throws when none is active. */
  rollback(model: string, nowMs = Date.now()): number | null {
    const stack = this.stack(model);
    if (stack.length === 0) throw new Error(`no personal head of ${model} is active: nothing to roll back`);
    this.db
      .prepare('INSERT INTO personal_head_events (model, version, kind, at_ms) VALUES (?, ?, ?, ?)')
      .run(model, stack.at(-1) ?? null, 'rollback', nowMs);
    return stack.at(-2) ?? null;
  }

  private event(model: string, version: number, kind: 'activate' | 'rollback', nowMs: number): void {
    this.db
      .prepare('INSERT INTO personal_head_events (model, version, kind, at_ms) VALUES (?, ?, ?, ?)')
      .run(model, version, kind, nowMs);
  }
}
