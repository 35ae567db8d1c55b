-- The core of a device's memory: what ran, what the cameras saw, what the frame's sensors said, what must reach
-- the phone. Later migrations add the domain tables (fixations, snippets, emotionship, people, models, labels).

CREATE TABLE sessions (
  id              TEXT PRIMARY KEY,
  device          TEXT NOT NULL,
  source          TEXT NOT NULL,             -- 'live' or the replayed session directory
  started_wall_ms INTEGER NOT NULL,
  started_t_ns    INTEGER NOT NULL,          -- monotonic clock anchor paired with started_wall_ms
  ended_wall_ms   INTEGER,
  state           TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed', 'interrupted'))
);

-- One row per frame the daemon processed: the index that later stages (gaze, attention) join against.
CREATE TABLE frames (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  stream     TEXT NOT NULL CHECK (stream IN ('eye0', 'eye1', 'scene')),
  idx        INTEGER NOT NULL,
  t_ns       INTEGER NOT NULL,
  -- For a scene frame: the eye frames nearest in time (NULL when that eye had none close enough).
  eye0_idx   INTEGER,
  eye1_idx   INTEGER,
  PRIMARY KEY (session_id, stream, idx)
) WITHOUT ROWID;

CREATE TABLE gaze_samples (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  t_ns       INTEGER NOT NULL,
  eye        TEXT NOT NULL CHECK (eye IN ('eye0', 'eye1', 'binocular')),
  x          REAL NOT NULL,                  -- scene pixels
  y          REAL NOT NULL,
  confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  pupil_diameter_px REAL
);
CREATE INDEX gaze_samples_by_time ON gaze_samples (session_id, t_ns);

CREATE TABLE telemetry (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  t_ns       INTEGER NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('imu', 'button', 'battery', 'temperature')),
  seq        INTEGER NOT NULL,
  payload    TEXT NOT NULL                   -- JSON of the message's fields
);
CREATE INDEX telemetry_by_time ON telemetry (session_id, kind, t_ns);

-- What must reach the phone, written in the same transaction as the record it announces.
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL,                  -- events/<kind> topic suffix
  record_id  TEXT NOT NULL,                  -- the id the phone de-duplicates on
  payload    TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  sent_ms    INTEGER,
  attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (kind, id) WHERE sent_ms IS NULL;
