"""What an eye tracker reports instead of the true gaze: a calibrated but imperfect estimate with gaps.

Per clip: a calibration offset (0.5-2 deg in a random direction) that slippage of the frame on the nose then
drags along slowly; a tracker latency (pursuit trails moving targets by this on top of the eye's own lag);
per-sample measurement noise (precision 0.15-0.5 deg RMS); occasional pupil-detection glitches; samples that
sag downward while the lid covers the pupil's top; and no sample at all while the lid is low (blinks) plus
short random dropouts. The eye's own drift and micro-saccades are already in the true gaze
(``synth.gaze_script._fixational_noise``). Angles become pixels with the scene camera (f = 520 px at 640x480).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glance_train.tva.clips import CAMERA, Clip

HISTORY = 16
"""Gaze samples per model input: one per scene frame, newest last."""


@dataclass(frozen=True)
class NoiseConfig:
    offset_deg: tuple[float, float] = (0.5, 2.0)
    drift_deg_s: tuple[float, float] = (0.0, 0.2)
    """Slippage: the offset's slow drift speed."""
    precision_deg: tuple[float, float] = (0.15, 0.5)
    latency_ms: tuple[float, float] = (0.0, 40.0)
    glitch_p: float = 0.01
    glitch_deg: tuple[float, float] = (1.0, 3.0)
    invalid_openness: float = 0.5
    """Below this lid opening the pupil is too covered to measure: no sample."""
    sag_deg: float = 1.5
    """Downward bias at the edge of measurability (openness just above ``invalid_openness``)."""
    dropouts_per_s: float = 0.3
    dropout_frames: tuple[int, int] = (1, 4)


@dataclass(frozen=True)
class TrackerError:
    """One clip's draw of the error model, kept so tests can check its statistics."""

    offset_px: np.ndarray
    drift_px_s: np.ndarray
    precision_px: float
    latency_ms: float


def draw_error(rng: np.random.Generator, cfg: NoiseConfig) -> TrackerError:
    px = CAMERA.px_per_deg()
    a = rng.uniform(0, 2 * math.pi)
    mag = rng.uniform(*cfg.offset_deg) * px
    b = rng.uniform(0, 2 * math.pi)
    drift = rng.uniform(*cfg.drift_deg_s) * px
    return TrackerError(
        offset_px=np.array([math.cos(a), math.sin(a)]) * mag,
        drift_px_s=np.array([math.cos(b), math.sin(b)]) * drift,
        precision_px=float(rng.uniform(*cfg.precision_deg) * px),
        latency_ms=float(rng.uniform(*cfg.latency_ms)),
    )


def tracked_gaze(clip: Clip, frames: np.ndarray, rng: np.random.Generator, err: TrackerError,
                 cfg: NoiseConfig = NoiseConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Tracker output at scene frames ``frames`` (ascending): (T, 2) scene px and (T,) validity."""
    px = CAMERA.px_per_deg()
    ms = clip.frame_ms(frames) - int(round(err.latency_ms))
    ms = np.clip(ms, 0, len(clip.gaze_ms) - 1)
    t_s = ms / 1000.0
    xy = clip.gaze_ms[ms] + err.offset_px + np.outer(t_s, err.drift_px_s)
    xy = xy + rng.normal(0.0, err.precision_px / math.sqrt(2), xy.shape)
    glitch = rng.random(len(ms)) < cfg.glitch_p
    ang = rng.uniform(0, 2 * math.pi, len(ms))
    amp = rng.uniform(*cfg.glitch_deg, len(ms)) * px
    xy[glitch] += (np.stack([np.cos(ang), np.sin(ang)], -1) * amp[:, None])[glitch]
    open_ = clip.openness[ms]
    sag = np.clip((0.85 - open_) / (0.85 - cfg.invalid_openness), 0.0, 1.0) * cfg.sag_deg * px
    xy[:, 1] += sag
    valid = open_ >= cfg.invalid_openness
    n_drop = rng.poisson(cfg.dropouts_per_s * len(ms) / 30.0)
    for s in rng.integers(0, len(ms), n_drop):
        valid[s : s + int(rng.integers(cfg.dropout_frames[0], cfg.dropout_frames[1] + 1))] = False
    return xy, valid


def history(xy: np.ndarray, valid: np.ndarray, end: int, width: float, height: float) -> np.ndarray:
    """The model's gaze input at frame index ``end`` of a per-frame track: (16, 3) of (x/W, y/H, valid),
    newest last; no sample (or before the track) is (0, 0, 0)."""
    out = np.zeros((HISTORY, 3), np.float32)
    for k in range(HISTORY):
        i = end - (HISTORY - 1) + k
        if 0 <= i < len(xy) and valid[i]:
            out[k] = (xy[i, 0] / width, xy[i, 1] / height, 1.0)
    return out
