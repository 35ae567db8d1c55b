import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.ts';
import { Outbox } from './outbox.ts';

/** A face track ready to store: its crops are already on disk at `cropPath` (relative to the data directory). */
export interface NewFace {
  readonly id: string;
  readonly sessionId: string;
  readonly startTNs: bigint;
  readonly endTNs: bigint;
  readonly seenWallMs: number;
  readonly detections: number;
  readonly crops: number;
  readonly cropPath: string;
  readonly embedding: Float32Array;
  readonly quality: number;
  readonly model: string;
}

export interface PersonRow {
  readonly id: string;
  readonly name: string | null;
  readonly enrolled: boolean;
  readonly model: string;
  readonly sum: Float32Array;
  readonly tracks: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** Where a stored track went, as the clusterer decided: an existing person, a new one, and merges it caused. */
export interface Placement {
  readonly personId: string;
  readonly isNew: boolean;
  readonly merges: readonly { readonly into: string; readonly from: string }[];
}

const blob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const floats = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

interface RawPerson {
  id: string;
  name: string | null;
  enrolled: number;
  model: string;
  embedding_sum: Buffer;
  tracks: number;
  first_seen_ms: number;
  last_seen_ms: number;
}

function person(r: RawPerson): PersonRow {
  return {
    id: r.id,
    name: r.name,
    enrolled: r.enrolled === 1,
    model: r.model,
    sum: floats(r.embedding_sum),
    tracks: r.tracks,
    firstSeenMs: r.first_seen_ms,
    lastSeenMs: r.last_seen_ms,
  };
}

/**
 * Faces and people, and their announcement to the phone (`events/person`, schema person.v1), always in the same
 * transaction. People are changed by the clusterer (new track, automatic merge) and by the wearer (name, merge,
 * split, forget); forgetting deletes every row and crop file derived from the person.
 */
export class FaceRepository {
  private readonly outbox: Outbox;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {
    this.outbox = new Outbox(db);
  }

  people(model?: string): PersonRow[] {
    const rows = (
      model === undefined
        ? this.db.prepare('SELECT * FROM people ORDER BY created_ms, id').all()
        : this.db.prepare('SELECT * FROM people WHERE model = ? ORDER BY created_ms, id').all(model)
    ) as RawPerson[];
    return rows.map(person);
  }

  person(id: string): PersonRow | undefined {
    const r = this.db.prepare('SELECT * FROM people WHERE id = ?').get(id) as RawPerson | undefined;
    return r && person(r);
  }

  faceIds(personId: string): string[] {
    return this.db
      .prepare('SELECT id FROM faces WHERE person_id = ? ORDER BY start_t_ns')
      .pluck()
      .all(personId) as string[];
  }

  /** Stores a track where the clusterer placed it, applies the merges it caused, and tells the phone. */
  addTrack(face: NewFace, placement: Placement, nowMs = Date.now()): void {
    this.db.transaction(() => {
      if (placement.isNew) {
        this.db
          .prepare(
            `INSERT INTO people (id, model, embedding_sum, tracks, first_seen_ms, last_seen_ms, created_ms, updated_ms)
             VALUES (?, ?, ?, 0, ?, ?, ?, ?)`,
          )
          .run(
            placement.personId,
            face.model,
            blob(new Float32Array(face.embedding.length)),
            face.seenWallMs,
            face.seenWallMs,
            nowMs,
            nowMs,
          );
      }
      this.db
        .prepare(
          `INSERT INTO faces (id, session_id, person_id, start_t_ns, end_t_ns, seen_wall_ms, detections, crops, crop_path,
             embedding, quality, model, created_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          face.id,
          face.sessionId,
          placement.personId,
          face.startTNs,
          face.endTNs,
          face.seenWallMs,
          face.detections,
          face.crops,
          face.cropPath,
          blob(face.embedding),
          face.quality,
          face.model,
          nowMs,
        );
      this.recompute(placement.personId, nowMs);
      for (const m of placement.merges) this.mergeRows(m.into, [m.from], nowMs);
    })();
  }

  /** Names a person (and enrols them: the wearer knows them, so their face is not blurred). */
  name(personId: string, name: string, enrolled: boolean, nowMs = Date.now()): PersonRow {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare('UPDATE people SET name = ?, enrolled = ?, updated_ms = ? WHERE id = ?')
        .run(name, enrolled ? 1 : 0, nowMs, personId).changes;
      if (changed === 0) throw new UnknownPersonError(personId);
      return this.announce(personId, nowMs);
    })();
  }

  /** Moves every track of `from` to `into`; the merged people are gone (the phone gets `merged` events). */
  merge(into: string, from: readonly string[], nowMs = Date.now()): PersonRow {
    return this.db.transaction(() => {
      for (const id of [into, ...from]) if (!this.person(id)) throw new UnknownPersonError(id);
      if (from.includes(into)) throw new Error(`cannot merge person ${into} into itself`);
      this.mergeRows(into, from, nowMs);
      return this.person(into) as PersonRow;
    })();
  }

  /** Moves the given tracks of a person to a new, unnamed person; returns the new person. */
  split(personId: string, faceIds: readonly string[], nowMs = Date.now()): PersonRow {
    return this.db.transaction(() => {
      const source = this.person(personId);
      if (!source) throw new UnknownPersonError(personId);
      const own = new Set(this.faceIds(personId));
      const missing = faceIds.filter((f) => !own.has(f));
      if (missing.length > 0) throw new Error(`tracks not of person ${personId}: ${missing.join(', ')}`);
      if (faceIds.length === own.size) throw new Error('a split must leave the person at least one track');
      const id = randomUUID();
      this.db
        .prepare(
          `INSERT INTO people (id, model, embedding_sum, tracks, first_seen_ms, last_seen_ms, created_ms, updated_ms)
           VALUES (?, ?, ?, 0, ?, ?, ?, ?)`,
        )
        .run(id, source.model, blob(new Float32Array(source.sum.length)), nowMs, nowMs, nowMs, nowMs);
      const move = this.db.prepare('UPDATE faces SET person_id = ? WHERE id = ?');
      for (const f of faceIds) move.run(id, f);
      this.recompute(personId, nowMs);
      this.recompute(id, nowMs);
      return this.person(id) as PersonRow;
    })();
  }

  /**
   * Forgets a person: their tracks, embeddings, crop files and row; undelivered events about them are withdrawn
   * and one `forgotten` event tells the phone to drop what it holds. Files go after the rows are committed.
   */
  forget(personId: string, nowMs = Date.now()): { faces: number; files: number } {
    const paths = this.db.transaction(() => {
      if (!this.person(personId)) throw new UnknownPersonError(personId);
      const files = this.db
        .prepare('SELECT crop_path FROM faces WHERE person_id = ?')
        .pluck()
        .all(personId) as string[];
      this.db.prepare('DELETE FROM faces WHERE person_id = ?').run(personId);
      this.db.prepare('DELETE FROM people WHERE id = ?').run(personId);
      this.db.prepare("DELETE FROM outbox WHERE kind = 'person' AND record_id = ? AND sent_ms IS NULL").run(personId);
      this.outbox.enqueue('person', personId, { schema: 'person.v1', id: personId, state: 'forgotten' }, nowMs);
      return files;
    })();
    for (const p of paths) rmSync(join(this.dataDir, p), { force: true });
    return { faces: paths.length, files: paths.length };
  }

  private mergeRows(into: string, from: readonly string[], nowMs: number): void {
    const move = this.db.prepare('UPDATE faces SET person_id = ? WHERE person_id = ?');
    const named = this.person(into);
    for (const f of from) {
      const gone = this.person(f);
      move.run(into, f);
      // A merged-in name survives when the target has none (the wearer named one half before merging).
      if (gone?.name && !named?.name) {
        this.db
          .prepare('UPDATE people SET name = ?, enrolled = ? WHERE id = ?')
          .run(gone.name, gone.enrolled ? 1 : 0, into);
      }
      this.db.prepare('DELETE FROM people WHERE id = ?').run(f);
      this.outbox.enqueue('person', f, { schema: 'person.v1', id: f, state: 'merged', mergedInto: into }, nowMs);
    }
    this.recompute(into, nowMs);
  }

  /** Rebuilds a person's embedding sum, track count and time range from their tracks, then announces them. */
  private recompute(personId: string, nowMs: number): void {
    const rows = this.db
      .prepare('SELECT embedding, seen_wall_ms AS seen FROM faces WHERE person_id = ?')
      .all(personId) as { embedding: Buffer; seen: number }[];
    const first = rows[0];
    if (first === undefined) return;
    const sum = new Float32Array(floats(first.embedding).length);
    for (const r of rows) {
      const e = floats(r.embedding);
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (e[i] ?? 0);
    }
    const seen = rows.map((r) => r.seen);
    this.db
      .prepare(
        `UPDATE people SET embedding_sum = ?, tracks = ?, first_seen_ms = ?, last_seen_ms = ?, updated_ms = ?
         WHERE id = ?`,
      )
      .run(blob(sum), rows.length, Math.min(...seen), Math.max(...seen), nowMs, personId);
    this.announce(personId, nowMs);
  }

  private announce(personId: string, nowMs: number): PersonRow {
    const p = this.person(personId) as PersonRow;
    const thumb = this.db
      .prepare('SELECT crop_path FROM faces WHERE person_id = ? ORDER BY quality DESC LIMIT 1')
      .pluck()
      .get(personId) as string | undefined;
    this.outbox.enqueue(
      'person',
      personId,
      {
        schema: 'person.v1',
        id: p.id,
        state: 'active',
        name: p.name,
        enrolled: p.enrolled,
        tracks: p.tracks,
        firstSeenMs: p.firstSeenMs,
        lastSeenMs: p.lastSeenMs,
        crops: thumb ?? null,
        model: p.model,
      },
      nowMs,
    );
    return p;
  }
}

export class UnknownPersonError extends Error {
  constructor(readonly personId: string) {
    super(`no person ${personId}`);
  }
}
