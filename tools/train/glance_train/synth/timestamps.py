"""Capture times of free-running camera streams on the device's monotonic clock."""

from __future__ import annotations

import numpy as np


def frame_times_ns(
    rng: np.random.Generator,
    start_ns: int,
    fps: float,
    end_ns: int,
    jitter_ns: int = 200_000,
    drift_ppm: float = 0.0,
) -> np.ndarray:
    """Integer ns timestamps (int64) from ``start_ns`` up to, not including, ``end_ns``.

    Each stream has its own crystal, so the period is off by ``drift_ppm`` and every frame is late or early by
    up to ``jitter_ns``; consumers must pair frames by time, never by index.
    """
    if fps <= 0:
        raise ValueError("fps must be positive")
    period = 1e9 / fps * (1.0 + drift_ppm * 1e-6)
    n = int(np.ceil((end_ns - start_ns) / period))
    nominal = start_ns + np.round(np.arange(n) * period).astype(np.int64)
    t = nominal + rng.integers(-jitter_ns, jitter_ns + 1, n)
    t = t[t < end_ns]
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise ValueError("jitter is too large for the frame period: timestamps would not increase")
    return t.astype(np.int64)
