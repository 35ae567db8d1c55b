-- Snippets: compact clips of the moments the wearer attended to. A row exists only once its files are complete
-- and fsynced, and is written in the same transaction as its outbox row.
CREATE TABLE snippets (
  id            TEXT PRIMARY KEY,
  session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  start_t_ns    INTEGER NOT NULL,
  end_t_ns      INTEGER NOT NULL,
  start_wall_ms INTEGER NOT NULL,
  frames        INTEGER NOT NULL CHECK (frames > 0),
  width         INTEGER NOT NULL,
  height        INTEGER NOT NULL,
  path          TEXT NOT NULL,                -- relative to the data directory
  thumb_path    TEXT NOT NULL,
  sidecar_path  TEXT NOT NULL,
  bytes         INTEGER NOT NULL,             -- video + thumbnail + sidecar
  sha256        TEXT NOT NULL,                -- of the video file
  score         REAL NOT NULL,
  region        TEXT,                         -- JSON {x, y, w, h} in scene pixels, or NULL
  trigger       TEXT NOT NULL,                -- what opened it: 'attention', 'emotion', 'manual'
  models        TEXT NOT NULL DEFAULT '[]',   -- JSON array of name@version that produced it
  sync_state    TEXT NOT NULL DEFAULT 'pending' CHECK (sync_state IN ('pending', 'synced')),
  created_ms    INTEGER NOT NULL,
  synced_ms     INTEGER
);
CREATE INDEX snippets_by_age ON snippets (sync_state, created_ms);

-- Small durable device facts (capture paused or not, …): survive a restart, and a missing row is a known state.
CREATE TABLE device_state (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
