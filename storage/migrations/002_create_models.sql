-- The device's models: which versions are installed (and verified), which one serves each model name, and the
-- history of installs, activations, rollbacks and refusals (models/registry.ts; DESIGN.md "Models").

CREATE TABLE models (
  name         TEXT NOT NULL,
  version      TEXT NOT NULL,
  dir          TEXT NOT NULL,
  sha256       TEXT NOT NULL,             -- of model.onnx, as the signed manifest states it
  key_id       TEXT NOT NULL,             -- the trusted key that signed the manifest
  installed_ms INTEGER NOT NULL,
  active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE UNIQUE INDEX models_one_active ON models (name) WHERE active = 1;

CREATE TABLE model_events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT NOT NULL,
  version      TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('install', 'activate', 'rollback', 'reject')),
  from_version TEXT,                      -- activate/rollback: the version that served before
  reason       TEXT,                      -- reject: the step that failed and why
  at_ms        INTEGER NOT NULL
);
CREATE INDEX model_events_by_name ON model_events (name, id);
