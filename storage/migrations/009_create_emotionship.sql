-- Emotionship: an emotion episode of the wearer (onset, peak, offset) and its cause, the attended scene before
-- the onset. Written with its outbox row (kind 'emotionship') in one transaction. The embedding and the
-- population model's logits at the peak are kept so a label the wearer gives later can train the personal head.
CREATE TABLE emotionship (
  id            TEXT PRIMARY KEY,
  session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  emotion       TEXT NOT NULL,
  confidence    REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  onset_t_ns    INTEGER NOT NULL,
  peak_t_ns     INTEGER NOT NULL,
  offset_t_ns   INTEGER NOT NULL CHECK (offset_t_ns >= onset_t_ns),
  cause_label   TEXT,                         -- scene class the wearer looked at before the onset, or NULL
  cause_score   REAL,                         -- share of the pre-onset window the gaze rested on it (0..1)
  cause_region  TEXT,                         -- JSON {x, y, w, h} in scene pixels, or NULL
  cause_source  TEXT,                         -- 'segmentation', 'model' (the network's cause head) or NULL
  snippet_id    TEXT REFERENCES snippets(id) ON DELETE SET NULL,
  model         TEXT NOT NULL,                -- name@version of the emotion model
  head          TEXT,                         -- personal head that adjusted it (name#version), or NULL
  embedding     BLOB,                         -- float32 LE at the peak
  logits        BLOB,                         -- float32 LE, the population model's at the peak
  created_ms    INTEGER NOT NULL
);
CREATE INDEX emotionship_by_session ON emotionship (session_id, onset_t_ns);

-- The wearer's personal emotion heads: small softmax layers trained on the device over a model's embedding,
-- versioned per base model; activations and rollbacks are appended to personal_head_events, never rewritten.
CREATE TABLE personal_heads (
  model       TEXT NOT NULL,                  -- base model name, e.g. emotion-ship
  version     INTEGER NOT NULL CHECK (version >= 1),
  base        TEXT NOT NULL,                  -- name@version whose embedding it was trained on
  parent      INTEGER,                        -- the version it was fine-tuned from, NULL from scratch
  classes     INTEGER NOT NULL,
  dim         INTEGER NOT NULL,
  weights     BLOB NOT NULL,                  -- float32 LE: W (classes x dim, row-major) then b (classes)
  examples    INTEGER NOT NULL,
  metrics     TEXT NOT NULL DEFAULT '{}',     -- JSON: training loss and accuracy before/after
  created_ms  INTEGER NOT NULL,
  PRIMARY KEY (model, version)
);

CREATE TABLE personal_head_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  model       TEXT NOT NULL,
  version     INTEGER,                        -- NULL: back to the population head
  kind        TEXT NOT NULL CHECK (kind IN ('activate', 'rollback')),
  at_ms       INTEGER NOT NULL,
  FOREIGN KEY (model, version) REFERENCES personal_heads (model, version)
);
