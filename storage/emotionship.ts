import type { Db } from './db.ts';
import { Outbox } from './outbox.ts';

export type Box = { x: number; y: number; w: number; h: number };

export interface EmotionCause {
  readonly label: string;
  /** Share of the pre-onset window the gaze rested on it, 0..1. */
  readonly score: number;
  readonly region: Box | null;
  readonly source: 'segmentation' | 'model';
}

export interface EmotionshipRow {
  readonly id: string;
  readonly sessionId: string;
  readonly emotion: string;
  readonly confidence: number;
  readonly onsetTNs: bigint;
  readonly peakTNs: bigint;
  readonly offsetTNs: bigint;
  readonly cause: EmotionCause | null;
  /** name@version of the emotion model. */
  readonly model: string;
  /** The personal head that adjusted the emotion (name#version), when one was active. */
  readonly head: string | null;
  readonly embedding: Float32Array | null;
  readonly logits: Float32Array | null;
}

export interface StoredEmotionship {
  readonly id: string;
  readonly emotion: string;
  readonly confidence: number;
  readonly onsetTNs: bigint;
  readonly offsetTNs: bigint;
  readonly causeLabel: string | null;
  readonly snippetId: string | null;
  readonly model: string;
}

function blob(a: Float32Array | null): Buffer | null {
  return a === null ? null : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function floatsOf(b: Buffer): Float32Array {
  // Copy: a Buffer from SQLite may not be 4-byte aligned for a Float32Array view.
  const out = new Float32Array(b.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/**
 * Emotionship records and their announcement to the phone (`events/emotionship`, schema emotionship.v1), always in
 * one transaction. A record links to the snippet whose time range covers its onset when such a snippet exists
 * when the record is written; the snippet may be evicted later (the link then becomes NULL, never dangles).
 */
export class EmotionshipRepository {
  private readonly outbox: Outbox;
  private readonly insertRow;
  private readonly covering;
  private readonly write: (row: EmotionshipRow, nowMs: number) => string | null;

  constructor(private readonly db: Db) {
    this.outbox = new Outbox(db);
    this.insertRow = db.prepare(
      `INSERT INTO emotionship (id, session_id, emotion, confidence, onset_t_ns, peak_t_ns, offset_t_ns, cause_label,
         cause_score, cause_region, cause_source, snippet_id, model, head, embedding, logits, created_ms)
       VALUES (@id, @sessionId, @emotion, @confidence, @onsetTNs, @peakTNs, @offsetTNs, @causeLabel, @causeScore,
         @causeRegion, @causeSource, @snippetId, @model, @head, @embedding, @logits, @createdMs)`,
    );
    this.covering = db
      .prepare(
        `SELECT id FROM snippets WHERE session_id = ? AND start_t_ns <= ? AND end_t_ns >= ?
         ORDER BY start_t_ns DESC LIMIT 1`,
      )
      .pluck();
    this.write = db.transaction((row: EmotionshipRow, nowMs: number) => {
      const snippetId = (this.covering.get(row.sessionId, row.onsetTNs, row.onsetTNs) as string | undefined) ?? null;
      this.insertRow.run({
        id: row.id,
        sessionId: row.sessionId,
        emotion: row.emotion,
        confidence: row.confidence,
        onsetTNs: row.onsetTNs,
        peakTNs: row.peakTNs,
        offsetTNs: row.offsetTNs,
        causeLabel: row.cause?.label ?? null,
        causeScore: row.cause?.score ?? null,
        causeRegion: row.cause?.region ? JSON.stringify(row.cause.region) : null,
        causeSource: row.cause?.source ?? null,
        snippetId,
        model: row.model,
        head: row.head,
        embedding: blob(row.embedding),
        logits: blob(row.logits),
        createdMs: nowMs,
      });
      this.outbox.enqueue('emotionship', row.id, emotionshipEvent(row, snippetId), nowMs);
      return snippetId;
    });
  }

  /** Writes the record and its outbox row; returns the id of the snippet it links to, or null. */
  add(row: EmotionshipRow, nowMs = Date.now()): string | null {
    return this.write(row, nowMs);
  }

  list(sessionId: string): StoredEmotionship[] {
    const rows = this.db
      .prepare(
        `SELECT id, emotion, confidence, onset_t_ns AS onsetTNs, offset_t_ns AS offsetTNs, cause_label AS causeLabel,
                snippet_id AS snippetId, model
         FROM emotionship WHERE session_id = ? ORDER BY onset_t_ns`,
      )
      .safeIntegers(true)
      .all(sessionId) as (Omit<StoredEmotionship, 'confidence'> & { confidence: number })[];
    return rows.map((r) => ({ ...r, confidence: Number(r.confidence) }));
  }

  /** The embedding and population logits stored with records, for training a personal head on labelled ones. */
  features(ids: readonly string[]): Map<string, { embedding: Float32Array; logits: Float32Array; model: string }> {
    const stmt = this.db.prepare('SELECT embedding, logits, model FROM emotionship WHERE id = ?');
    const out = new Map<string, { embedding: Float32Array; logits: Float32Array; model: string }>();
    for (const id of ids) {
      const r = stmt.get(id) as { embedding: Buffer | null; logits: Buffer | null; model: string } | undefined;
      if (r?.embedding && r.logits)
        out.set(id, { embedding: floatsOf(r.embedding), logits: floatsOf(r.logits), model: r.model });
    }
    return out;
  }
}

/** The `events/emotionship` payload (schema emotionship.v1). */
function emotionshipEvent(row: EmotionshipRow, snippetId: string | null) {
  return {
    schema: 'emotionship.v1',
    id: row.id,
    sessionId: row.sessionId,
    emotion: row.emotion,
    confidence: row.confidence,
    onsetTNs: row.onsetTNs.toString(),
    peakTNs: row.peakTNs.toString(),
    offsetTNs: row.offsetTNs.toString(),
    durationMs: Number(row.offsetTNs - row.onsetTNs) / 1e6,
    cause: row.cause,
    snippetId,
    model: row.model,
    head: row.head,
  };
}
