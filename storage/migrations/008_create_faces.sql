-- Face memory: tracks of faces seen in the scene camera (`faces`) clustered into people (`people`).
-- A person's `embedding_sum` is the sum of its tracks' L2-normalised embeddings: with it, the average-linkage
-- distance between a new track (or another person) and the person is exact without reading every track.
CREATE TABLE people (
  id            TEXT PRIMARY KEY,
  name          TEXT,
  enrolled      INTEGER NOT NULL DEFAULT 0 CHECK (enrolled IN (0, 1)),  -- the wearer knows them: not blurred
  model         TEXT NOT NULL,                  -- name@version of the embeddings summed below
  embedding_sum BLOB NOT NULL,                  -- float32 sum of the tracks' embeddings
  tracks        INTEGER NOT NULL DEFAULT 0,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  created_ms    INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL
);

CREATE TABLE faces (
  id            TEXT PRIMARY KEY,
  session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  person_id     TEXT REFERENCES people(id) ON DELETE SET NULL,
  start_t_ns    INTEGER NOT NULL,
  end_t_ns      INTEGER NOT NULL,
  seen_wall_ms  INTEGER NOT NULL,
  detections    INTEGER NOT NULL,
  crops         INTEGER NOT NULL CHECK (crops > 0),
  crop_path     TEXT NOT NULL,                  -- relative to the data directory: a PNG strip of the track's crops
  embedding     BLOB NOT NULL,                  -- float32, L2-normalised
  quality       REAL NOT NULL,                  -- mean Laplacian variance of the kept crops
  model         TEXT NOT NULL,                  -- name@version that embedded it
  created_ms    INTEGER NOT NULL
);
CREATE INDEX faces_by_person ON faces (person_id);
CREATE INDEX faces_by_session ON faces (session_id, start_t_ns);
