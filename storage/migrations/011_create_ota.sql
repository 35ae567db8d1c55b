-- Models sent over the air (sync/ota/): one row per model bundle being received, installed or refused.
-- The bundle's chunks are staged in a part file beside the data directory (never in the live models directory);
-- `received` says which are written, verified and fdatasynced, so a restarted daemon resumes from there.
CREATE TABLE ota_transfers (
  id          TEXT PRIMARY KEY,                  -- one MQTT topic level (models/ota/<id>/...), derived from the bundle
  model       TEXT NOT NULL,                     -- name@version as the flasher announced it
  manifest    TEXT NOT NULL,                     -- the ota-manifest.v1 JSON: files, sizes, sha256s, chunking
  size        INTEGER NOT NULL CHECK (size > 0),
  sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
  chunk_bytes INTEGER NOT NULL CHECK (chunk_bytes > 0),
  chunks      INTEGER NOT NULL CHECK (chunks > 0),
  received    BLOB NOT NULL,                     -- one byte per chunk: 1 = held durably
  state       TEXT NOT NULL DEFAULT 'receiving'
              CHECK (state IN ('receiving', 'installing', 'installed', 'refused', 'dropped')),
  result      TEXT,                              -- the ota-result.v1 JSON, once installed or refused
  created_ms  INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL
);
CREATE INDEX ota_transfers_open ON ota_transfers (state) WHERE state IN ('receiving', 'installing');
