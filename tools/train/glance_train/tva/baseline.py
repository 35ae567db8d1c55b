"""Eye tracking alone: what the tracker's gaze says without looking at the scene.

Box: a fixed-size box (the median attended-object size of the training set) centred at the latest valid gaze.
Score: an I-DT-style test over the last ~0.3 s of gaze (10 frames): attending when the samples' dispersion is
small (a fixation) or when they move smoothly and consistently (a pursuit). Its thresholds are tuned on the
training set for the best episode-frame F1, so the baseline gets the same data the network does.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from glance_train.tva.clips import CAMERA, FPS

WINDOW = 10
MIN_VALID = 5


@dataclass(frozen=True)
class EyeOnly:
    box_wh: tuple[float, float]
    dispersion_deg: float = 1.5
    max_speed_deg_s: float = 30.0
    coherence: float = 0.8

    def to_dict(self) -> dict[str, float | list[float]]:
        d = asdict(self)
        d["box_wh"] = list(self.box_wh)
        return d


def latest_gaze(gaze: np.ndarray) -> np.ndarray:
    """(N, 2) newest valid sample of each (N, 16, 3) history; the frame centre when there is none."""
    valid = gaze[:, :, 2] > 0.5
    idx = np.where(valid.any(1), gaze.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1), -1)
    out = np.full((len(gaze), 2), 0.5, np.float32)
    has = idx >= 0
    out[has] = gaze[np.flatnonzero(has), idx[has], 0:2]
    return out


def boxes(gaze: np.ndarray, box_wh: tuple[float, float]) -> np.ndarray:
    c = np.clip(latest_gaze(gaze), 0.0, 1.0)
    return np.concatenate([c, np.broadcast_to(np.array(box_wh, np.float32), c.shape)], axis=1)


def _window_stats(gaze: np.ndarray, width: int = 640, height: int = 480) -> tuple[np.ndarray, ...]:
    """Per history: dispersion (deg), mean speed (deg/s), coherence (|mean velocity| / mean |velocity|),
    and how many valid samples the window has."""
    px = CAMERA.px_per_deg()
    w = gaze[:, -WINDOW:]
    valid = w[:, :, 2] > 0.5
    xy = w[:, :, 0:2] * np.array([width, height]) / px  # degrees
    big = np.where(valid[..., None], xy, np.nan)
    with np.errstate(all="ignore"):
        rx = np.nanmax(big[..., 0], 1) - np.nanmin(big[..., 0], 1)
        disp = rx + np.nanmax(big[..., 1], 1) - np.nanmin(big[..., 1], 1)
        step_ok = valid[:, 1:] & valid[:, :-1]
        v = (xy[:, 1:] - xy[:, :-1]) * FPS
        v = np.where(step_ok[..., None], v, 0.0)
        n = step_ok.sum(1)
        speed = np.linalg.norm(v, axis=2).sum(1) / np.maximum(n, 1)
        mean_v = np.linalg.norm(v.sum(1), axis=1) / np.maximum(n, 1)
        coherence = mean_v / np.maximum(speed, 1e-6)
    return np.nan_to_num(disp, nan=1e9), speed, coherence, valid.sum(1)


def scores(gaze: np.ndarray, p: EyeOnly) -> np.ndarray:
    return _decide(_window_stats(gaze), p)


def _decide(stats: tuple[np.ndarray, ...], p: EyeOnly) -> np.ndarray:
    disp, speed, coherence, count = stats
    fixation = disp < p.dispersion_deg
    pursuit = (speed < p.max_speed_deg_s) & (coherence > p.coherence)
    return ((count >= MIN_VALID) & (fixation | pursuit)).astype(np.float32)


def f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float(np.sum(pred & truth))
    fp, fn = float(np.sum(pred & ~truth)), float(np.sum(~pred & truth))
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


DISPERSIONS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
SPEEDS = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
COHERENCES = (0.3, 0.5, 0.7, 0.85, 0.95, 2.0)
"""The grid the score thresholds are searched on (coherence 2.0 turns the pursuit test off)."""


def fit(gaze: np.ndarray, box: np.ndarray, episode: np.ndarray) -> EyeOnly:
    """Median attended size for the box, and the score thresholds with the best F1, on training data."""
    wh = np.median(box[episode, 2:4], axis=0)
    stats = _window_stats(gaze)
    best, best_f1 = EyeOnly((float(wh[0]), float(wh[1]))), -1.0
    for d, v, c in itertools.product(DISPERSIONS, SPEEDS, COHERENCES):
        cand = EyeOnly(best.box_wh, d, v, c)
        score = f1(_decide(stats, cand) > 0.5, episode)
        if score > best_f1:
            best, best_f1 = cand, score
    return best
