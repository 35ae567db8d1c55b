-- Active learning (DEAL): the questions the device asked the wearer about stored records, and their answers.
-- A request row is written in the same transaction as its `label-request` outbox row; an answer fills the row
-- once (answered_at is set exactly once). The toolchain reads answered rows through `glance labels export`.
CREATE TABLE labels (
  id                TEXT PRIMARY KEY,           -- the request id the phone echoes in cmd/label
  target_kind       TEXT NOT NULL CHECK (target_kind IN ('snippet', 'emotionship', 'face', 'person')),
  target_id         TEXT NOT NULL,
  question          TEXT NOT NULL,
  options           TEXT NOT NULL,              -- JSON array of the answers offered, in the model's class order
  probabilities     TEXT NOT NULL,              -- JSON array: the model's probability of each option when asked
  model             TEXT,                       -- name@version whose output the question is about
  criterion         TEXT NOT NULL,              -- the criterion that contributed most to picking it
  votes             TEXT NOT NULL,              -- JSON {criterion: advice mass}: why it was picked
  query_probability REAL NOT NULL CHECK (query_probability > 0 AND query_probability <= 1),
  asked_at          INTEGER NOT NULL,           -- wall ms
  answered_at       INTEGER,
  answer            TEXT,
  answered_by       TEXT,
  reward            REAL,                       -- what the answer paid the bandit (1 − p(answer))
  UNIQUE (target_kind, target_id),              -- one question per record
  CHECK ((answered_at IS NULL) = (answer IS NULL))
);
CREATE INDEX labels_by_asked ON labels (asked_at);
CREATE INDEX labels_open ON labels (answered_at) WHERE answered_at IS NULL;

-- The label queue's own state (REXP4 expert weights, round, generator, pending advice): one row, JSON.
CREATE TABLE label_queue (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  state      TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
