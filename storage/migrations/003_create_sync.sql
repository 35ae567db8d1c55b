-- Phone sync (sync/): what the broker has but the phone has not confirmed, and the chunked snippet transfers.

-- Outbox rows the broker acknowledged (PUBACK, so outbox.sent_ms is set) that the phone has not yet receipted.
-- A broker's queue is not a delivery: a broker restart without persistence, or a subscriber queue that
-- overflows, loses messages it already acknowledged. These rows are sent again until the phone confirms them.
CREATE TABLE outbox_undelivered (
  outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
  sent_ms   INTEGER NOT NULL
);

-- One file to move to the phone in checksummed chunks; resumable from `acked_chunks` after any interruption.
CREATE TABLE transfers (
  id           TEXT PRIMARY KEY,                -- a single MQTT topic level (snippets/<id>/...)
  kind         TEXT NOT NULL,                   -- what the file is ('snippet', …)
  record_id    TEXT NOT NULL,                   -- the record it belongs to
  path         TEXT NOT NULL,
  size         INTEGER NOT NULL CHECK (size >= 0),
  sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
  -- Fixed when sending starts, so a resume after a config change still cuts the file the same way.
  chunk_bytes  INTEGER CHECK (chunk_bytes > 0),
  next_chunk   INTEGER NOT NULL DEFAULT 0,      -- high-water mark of chunks published so far
  acked_chunks INTEGER NOT NULL DEFAULT 0,      -- chunks [0, acked_chunks) are confirmed held by the phone
  state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'synced', 'failed')),
  error        TEXT,                            -- why a transfer failed (file gone or changed)
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  synced_ms    INTEGER                          -- set only when the phone confirmed the whole file's sha256
);
CREATE INDEX transfers_open ON transfers (created_ms, id) WHERE state IN ('pending', 'sending');
CREATE INDEX transfers_by_record ON transfers (kind, record_id);
