import type { Db } from './db.ts';

export type CalibrationStatus = 'active' | 'superseded' | 'rejected';

export interface GazeCalibrationRow {
  readonly id: number;
  readonly wearer: string;
  readonly sessionId: string | null;
  readonly createdMs: number;
  readonly method: 'single-marker' | 'natural-features';
  readonly status: CalibrationStatus;
  /** The stored mapping as JSON-parsed data; its shape is the gaze mapper's to check. */
  readonly mapping: unknown;
  readonly accuracyDeg: number | null;
  readonly precisionDeg: number | null;
  readonly reason: string | null;
  readonly report: unknown;
}

export interface NewGazeCalibration {
  readonly wearer: string;
  readonly sessionId?: string | null;
  readonly method: GazeCalibrationRow['method'];
  /** An accepted calibration becomes the wearer's active one; a rejected one is only kept for its report. */
  readonly accepted: boolean;
  readonly mapping: unknown;
  readonly accuracyDeg: number | null;
  readonly precisionDeg: number | null;
  readonly reason?: string | null;
  readonly report: unknown;
  readonly createdMs?: number;
}

interface Raw {
  id: number;
  wearer: string;
  session_id: string | null;
  created_ms: number;
  method: GazeCalibrationRow['method'];
  status: CalibrationStatus;
  mapping: string | null;
  accuracy_deg: number | null;
  precision_deg: number | null;
  reason: string | null;
  report: string;
}

/**
 * Gaze calibrations per wearer. Saving an accepted calibration supersedes the active one in the same transaction
 * (a partial unique index allows one active row per wearer), so there is never a moment with two or none;
 * a rejected calibration is stored beside it and changes nothing.
 */
export class GazeCalibrationRepository {
  private readonly insert;
  private readonly supersede;
  private readonly selectActive;
  private readonly selectAll;
  private readonly saveTx;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT INTO calibrations (wearer, session_id, created_ms, method, status, mapping, accuracy_deg, precision_deg, reason, report)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.supersede = db.prepare(`UPDATE calibrations SET status = 'superseded' WHERE wearer = ? AND status = 'active'`);
    this.selectActive = db.prepare(`SELECT * FROM calibrations WHERE wearer = ? AND status = 'active'`);
    this.selectAll = db.prepare('SELECT * FROM calibrations WHERE wearer = ? ORDER BY id');
    this.saveTx = db.transaction((c: NewGazeCalibration): number => {
      if (c.accepted) this.supersede.run(c.wearer);
      const row = this.insert.get(
        c.wearer,
        c.sessionId ?? null,
        c.createdMs ?? Date.now(),
        c.method,
        c.accepted ? 'active' : 'rejected',
        c.mapping === null || c.mapping === undefined ? null : JSON.stringify(c.mapping),
        finite(c.accuracyDeg),
        finite(c.precisionDeg),
        c.reason ?? null,
        JSON.stringify(c.report),
      ) as { id: number };
      return row.id;
    });
  }

  save(c: NewGazeCalibration): number {
    return this.saveTx(c);
  }

  active(wearer: string): GazeCalibrationRow | undefined {
    const r = this.selectActive.get(wearer) as Raw | undefined;
    return r === undefined ? undefined : fromRaw(r);
  }

  list(wearer: string): GazeCalibrationRow[] {
    return (this.selectAll.all(wearer) as Raw[]).map(fromRaw);
  }
}

function finite(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

function fromRaw(r: Raw): GazeCalibrationRow {
  return {
    id: r.id,
    wearer: r.wearer,
    sessionId: r.session_id,
    createdMs: r.created_ms,
    method: r.method,
    status: r.status,
    mapping: r.mapping === null ? null : (JSON.parse(r.mapping) as unknown),
    accuracyDeg: r.accuracy_deg,
    precisionDeg: r.precision_deg,
    reason: r.reason,
    report: JSON.parse(r.report) as unknown,
  };
}
