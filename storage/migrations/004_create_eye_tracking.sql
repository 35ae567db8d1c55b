-- Eye tracking: the scene camera's intrinsics per device, gaze calibrations per wearer, and the events found in
-- the gaze stream (fixations, blinks). Gaze samples themselves go to gaze_samples (001).

CREATE TABLE camera_intrinsics (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  device        TEXT NOT NULL,
  camera        TEXT NOT NULL DEFAULT 'scene',
  created_ms    INTEGER NOT NULL,
  width         INTEGER NOT NULL,
  height        INTEGER NOT NULL,
  camera_matrix TEXT NOT NULL,               -- JSON: 9 numbers, row-major
  dist_coeffs   TEXT NOT NULL,               -- JSON: k1, k2, p1, p2[, k3 …] as OpenCV orders them
  rms           REAL NOT NULL,               -- reprojection error of the chessboard calibration, px
  images_used   INTEGER NOT NULL
);
CREATE INDEX camera_intrinsics_latest ON camera_intrinsics (device, camera, id);

-- Every gaze calibration attempt, kept: the active one maps gaze; a rejected one stays for its report.
CREATE TABLE calibrations (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  wearer        TEXT NOT NULL,
  session_id    TEXT REFERENCES sessions(id) ON DELETE SET NULL,
  created_ms    INTEGER NOT NULL,
  method        TEXT NOT NULL CHECK (method IN ('single-marker', 'natural-features')),
  status        TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'rejected')),
  mapping       TEXT,                        -- JSON gaze mapping; NULL when nothing could be fitted
  accuracy_deg  REAL,                        -- mean angular error on the validation targets
  precision_deg REAL,                        -- RMS of successive-sample angular distance
  reason        TEXT,                        -- why a rejected calibration was rejected
  report        TEXT NOT NULL                -- JSON: targets, observations, fit, validation per target
);
CREATE UNIQUE INDEX calibrations_one_active ON calibrations (wearer) WHERE status = 'active';

CREATE TABLE fixations (
  session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  start_t_ns     INTEGER NOT NULL,
  end_t_ns       INTEGER NOT NULL,
  x              REAL NOT NULL,              -- centroid, scene pixels
  y              REAL NOT NULL,
  dispersion_deg REAL NOT NULL,
  samples        INTEGER NOT NULL,
  confidence     REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX fixations_by_time ON fixations (session_id, start_t_ns);

CREATE TABLE blinks (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  start_t_ns INTEGER NOT NULL,
  end_t_ns   INTEGER NOT NULL,
  eyes       TEXT NOT NULL CHECK (eyes IN ('both', 'eye0', 'eye1'))
);
CREATE INDEX blinks_by_time ON blinks (session_id, start_t_ns);
