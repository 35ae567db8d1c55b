-- Attention episodes: what the wearer attended to, as the attention stage (TVA) detected it. One row per
-- episode, written when it ends; a snippet refers to the moment by time, not by foreign key, because a
-- snippet can merge several episodes and an episode can be split across snippets.
CREATE TABLE attention_events (
  id          INTEGER PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  start_t_ns  INTEGER NOT NULL,
  peak_t_ns   INTEGER NOT NULL,
  end_t_ns    INTEGER NOT NULL,
  peak_score  REAL NOT NULL CHECK (peak_score BETWEEN 0 AND 1),
  mean_score  REAL NOT NULL CHECK (mean_score BETWEEN 0 AND 1),
  region      TEXT NOT NULL,               -- JSON {x, y, w, h} in scene pixels, at the peak
  frames      INTEGER NOT NULL CHECK (frames > 0),
  model       TEXT NOT NULL,               -- name@version of the attention model
  CHECK (start_t_ns <= peak_t_ns AND peak_t_ns <= end_t_ns)
);
CREATE INDEX attention_events_by_time ON attention_events (session_id, start_t_ns);
