"""Head-motion profiles for the key-frame sequences: where the 640x480 view looks, frame by frame.

Two profiles (``PROFILES``):

- ``drift-turns`` (the original, docs/schedulers.md section 4): a slow drift and tremor with 0-3 short turns of at
  most ~15 deg (the 840x630 canvas leaves a 100 px margin), so the view shifts by at most a sixth of its width.
- ``eyewear``: what a wearer's head does, as a semi-Markov chain of three segment kinds —
  *still* (fixating, reading: drift < 1 deg/s plus tremor), *pursuit* (the head follows something smoothly at
  5-25 deg/s) and *head turn* (a gaze shift with the head: 15-40 deg in 0.2-0.35 s, minimum-jerk profile,
  peak 140-215 deg/s). The canvas is 1360 px wide (+-40 deg of yaw), so a turn brings in content the last key
  never saw, and fast frames are motion-blurred over the camera's exposure. Parameters and their sources are in
  docs/schedulers.md ("An eyewear head-motion profile").

Angles convert to view pixels with the scene camera's focal length (synth.scene_camera: fx = 520 px at 640 px,
9.08 px a degree near the centre); the view is a crop of a flat canvas, so yaw and pitch become translations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glance_train.synth.scene_camera import SceneCamera

PROFILES = ("drift-turns", "eyewear")
PX_PER_DEG = SceneCamera().px_per_deg()
"""View pixels (640 px wide) per degree of head rotation near the image centre."""

# --- eyewear profile parameters (docs/schedulers.md justifies each) ---
EYEWEAR_MARGIN = (360, 90)
"""Canvas margin around the view (px): +-39.6 deg of yaw, +-9.9 deg of pitch before the room ends."""
STILL_S = (0.4, 1.6)
"""Duration of a still segment (s): fixations and reading keep the head within a degree for seconds."""
STILL_DRIFT_DEG_S = 1.0
"""Largest slow drift speed while still (deg/s)."""
TREMOR_DEG = (0.09, 0.07)
"""Head tremor amplitude x, y (deg), at 3.1 and 2.3 Hz (as the original profile: 0.8 / 0.6 px)."""
PURSUIT_S = (0.4, 1.2)
PURSUIT_DEG_S = (5.0, 25.0)
"""Smooth pursuit with the head: duration (s) and speed (deg/s), within 30 deg of horizontal."""
TURN_DEG = (15.0, 40.0)
"""Head-turn amplitude (deg of yaw); pitch changes by up to +-5 deg with it."""
TURN_S_BASE, TURN_S_PER_DEG = 0.11, 0.006
"""Turn duration = 0.11 s + 0.006 s/deg x amplitude: 0.2 s for 15 deg, 0.35 s for 40 deg (peak 140-215 deg/s)."""
NEXT_AFTER_STILL = {"turn": 0.6, "pursuit": 0.4}
NEXT_AFTER_PURSUIT = {"still": 0.7, "turn": 0.3}
EXPOSURE_S = 0.008
"""Scene-camera exposure: a frame integrates the motion over 8 ms (motion blur = speed x exposure)."""


@dataclass(frozen=True)
class Segment:
    kind: str
    """"still", "pursuit" or "turn"."""
    start: float
    duration: float
    dx: float
    """Displacement over the segment (px of the 640 view; drift for "still")."""
    dy: float


@dataclass(frozen=True)
class EyewearHead:
    """View offset (px of the 640 view, from the canvas centre) over time: segments + tremor."""

    start: tuple[float, float]
    segments: tuple[Segment, ...]
    tremor_seed: int

    def offset(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        x = np.full_like(t, self.start[0])
        y = np.full_like(t, self.start[1])
        for seg in self.segments:
            s = np.clip((t - seg.start) / seg.duration, 0.0, 1.0)
            if seg.kind == "turn":
                ease = s**3 * (10 - 15 * s + 6 * s * s)  # minimum jerk: how a head shifts gaze
            elif seg.kind == "pursuit":
                ramp = min(0.1 / seg.duration, 0.5)  # 0.1 s to reach the pursuit speed, and to stop
                ease = _ramped(s, ramp)
            else:
                ease = s  # a slow drift at constant speed
            x = x + seg.dx * ease
            y = y + seg.dy * ease
        rng = np.random.default_rng(self.tremor_seed)
        ph = rng.uniform(0, 2 * np.pi, 2)
        x = x + TREMOR_DEG[0] * PX_PER_DEG * np.sin(2 * np.pi * 3.1 * t + ph[0])
        y = y + TREMOR_DEG[1] * PX_PER_DEG * np.sin(2 * np.pi * 2.3 * t + ph[1])
        return np.stack([x, y], axis=-1)

    def kinds(self, t: np.ndarray) -> list[str]:
        """The segment kind at each time (the last one past the end)."""
        out = []
        for ti in np.asarray(t, float):
            kind = self.segments[-1].kind
            for seg in self.segments:
                if seg.start <= ti < seg.start + seg.duration:
                    kind = seg.kind
                    break
            out.append(kind)
        return out


def _ramped(s: np.ndarray, r: float) -> np.ndarray:
    """Position along a constant-speed move with linear speed ramps of share ``r`` at both ends (0..1)."""
    v = 1.0 / (1.0 - r)  # peak speed so that the whole move covers 1
    up = 0.5 * v / r * s * s
    mid = 0.5 * v * r + v * (s - r)
    down = 1.0 - 0.5 * v / r * (1.0 - s) ** 2
    return np.where(s < r, up, np.where(s > 1 - r, down, mid))


def _pick(rng: np.random.Generator, probs: dict[str, float]) -> str:
    kinds = list(probs)
    return str(kinds[int(rng.choice(len(kinds), p=np.array([probs[k] for k in kinds])))])


def make_eyewear_head(rng: np.random.Generator, seconds: float) -> EyewearHead:
    mx, my = EYEWEAR_MARGIN[0] - 8, EYEWEAR_MARGIN[1] - 8
    x, y = float(rng.uniform(-0.5, 0.5) * mx), float(rng.uniform(-0.5, 0.5) * my)
    start = (x, y)
    segs: list[Segment] = []
    t = 0.0
    kind = "still" if rng.random() < 0.6 else "pursuit"
    first = True
    while t < seconds:
        if kind == "still":
            dur = float(rng.uniform(*STILL_S)) * (float(rng.uniform(0.2, 1.0)) if first else 1.0)
            ang = rng.uniform(0, 2 * np.pi)
            speed = float(rng.uniform(0, STILL_DRIFT_DEG_S)) * PX_PER_DEG
            dx, dy = speed * dur * np.cos(ang), speed * dur * np.sin(ang)
            nxt = _pick(rng, NEXT_AFTER_STILL)
        elif kind == "pursuit":
            dur = float(rng.uniform(*PURSUIT_S))
            speed = float(rng.uniform(*PURSUIT_DEG_S)) * PX_PER_DEG
            sign = _direction(rng, x, speed * dur, mx)
            ang = np.radians(rng.uniform(-30, 30))
            dx, dy = sign * speed * dur * np.cos(ang), speed * dur * np.sin(ang)
            nxt = _pick(rng, NEXT_AFTER_PURSUIT)
        else:
            amp = float(rng.uniform(*TURN_DEG))
            dur = TURN_S_BASE + TURN_S_PER_DEG * amp
            sign = _direction(rng, x, amp * PX_PER_DEG, mx)
            dx = sign * amp * PX_PER_DEG
            dy = float(rng.uniform(-5, 5)) * PX_PER_DEG
            nxt = "still"
        # Stay inside the rendered room: a move that would leave it stops at its edge.
        tx, ty = float(np.clip(x + dx, -mx, mx)), float(np.clip(y + dy, -my, my))
        segs.append(Segment(kind, t, dur, tx - x, ty - y))
        x, y = tx, ty
        t += dur
        kind = nxt
        first = False
    return EyewearHead(start, tuple(segs), int(rng.integers(0, 2**31)))


def _direction(rng: np.random.Generator, x: float, dist: float, limit: float) -> float:
    """Left or right at random, unless only one side has room for the move."""
    right, left = x + dist <= limit, x - dist >= -limit
    if right and left:
        return 1.0 if rng.random() < 0.5 else -1.0
    if right or left:
        return 1.0 if right else -1.0
    return 1.0 if x < 0 else -1.0


def speed_deg_s(offsets: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame head speed (deg/s) from view offsets (N, 2) in px; frame 0 takes frame 1's speed."""
    d = np.linalg.norm(np.diff(offsets, axis=0), axis=1) * fps / PX_PER_DEG
    return np.concatenate([d[:1], d]) if len(d) else np.zeros(len(offsets))
