"""Short synthetic clips: a cluttered scene, and a wearer who fixates, pursues, glances and switches targets.

Built from the session generator's pieces (``synth.scene_objects``, ``synth.gaze_script``) but without the
calibration and validation markers, with more distractors, short glances that are *not* attention episodes,
and a wider range of pursuit lag. Ground truth follows DESIGN/groundtruth: an attention episode is a fixation
or pursuit of one object lasting at least 0.8 s, from the end of the saccade that lands on it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from glance_train.synth.gaze_script import (
    ATTENTION_MIN_MS,
    _background_point,
    _blinks,
    _fixational_noise,
    _min_jerk,
)
from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.scene_objects import SceneObject, SceneWorld, make_world
from glance_train.synth.seeding import child_rng

FPS = 30.0
PRE_ROLL_S = 2.0
"""Simulated before frame 0, so a clip starts mid-behaviour with a full gaze history and lag frames."""
CAMERA = SceneCamera()


@dataclass(frozen=True)
class ClipConfig:
    seconds: float = 8.0
    extra_objects: tuple[int, int] = (2, 5)
    """Distractors added to make_world's 4-6 objects (inclusive range)."""
    p_attend: float = 0.6
    p_glance: float = 0.15
    dwell_ms: tuple[int, int] = (900, 2600)
    glance_ms: tuple[int, int] = (250, 650)
    pursuit_lag_ms: tuple[int, int] = (40, 150)


@dataclass(frozen=True)
class Clip:
    world: SceneWorld
    gaze_ms: np.ndarray
    """(n, 2) true gaze in scene px on a 1 ms grid starting PRE_ROLL_S before frame 0."""
    openness: np.ndarray
    """(n,) lid opening on the same grid (1 open, 0 shut)."""
    attended_ms: np.ndarray
    """(n,) id of the fixated/pursued object, or -1."""
    episodes: tuple[tuple[int, int, int], ...]
    """(start_ms, end_ms, object id) on the grid: attention episodes."""
    frames: int

    def frame_ms(self, f: np.ndarray | int) -> np.ndarray:
        """Grid index (ms) of scene frame ``f`` (negative frames lie in the pre-roll)."""
        return np.rint(PRE_ROLL_S * 1000 + np.asarray(f, float) * 1000.0 / FPS).astype(np.int64)

    def frame_time_s(self, f: np.ndarray | int) -> np.ndarray:
        """World time (seconds) of scene frame ``f``; the world's clock starts at the grid's start."""
        return self.frame_ms(f) / 1000.0

    def in_episode(self, f: np.ndarray) -> np.ndarray:
        ms = self.frame_ms(f)
        out = np.zeros(ms.shape, bool)
        for a, b, _ in self.episodes:
            out |= (ms >= a) & (ms < b)
        return out

    def attended(self, f: np.ndarray) -> np.ndarray:
        return self.attended_ms[np.clip(self.frame_ms(f), 0, len(self.attended_ms) - 1)]


def cluttered_world(seed: int, extra: tuple[int, int]) -> SceneWorld:
    """make_world's 4-6 objects plus a few more of a second draw, re-numbered and with a fresh depth order."""
    base = make_world(child_rng(seed, "world"))
    more = make_world(child_rng(seed, "distractors"))
    rng = child_rng(seed, "clutter")
    k = int(rng.integers(extra[0], extra[1] + 1))
    objs: list[SceneObject] = [*base.objects, *more.objects[:k]]
    depths = rng.permutation(len(objs))
    objs = [dataclasses.replace(o, id=i, depth=int(depths[i])) for i, o in enumerate(objs)]
    return SceneWorld(base.width, base.height, tuple(objs), base.texture_seed)


def make_clip(seed: int, cfg: ClipConfig = ClipConfig()) -> Clip:
    world = cluttered_world(seed, cfg.extra_objects)
    rng = child_rng(seed, "behaviour")
    px_deg = CAMERA.px_per_deg()
    n = int(math.ceil((PRE_ROLL_S + cfg.seconds) * 1000)) + 1
    centers = world.centers(np.arange(n) / 1000.0)
    gaze = np.tile([world.width / 2, world.height / 2], (n, 1)).astype(float)
    attended = np.full(n, -1, np.int32)
    episodes: list[tuple[int, int, int]] = []
    t, last_obj = 0, -1
    last_xy = (world.width / 2, world.height / 2)
    while t < n:
        u = rng.random()
        free = world.unoccluded_fraction(t / 1000.0)
        choices = [o.id for o in world.objects if free[o.id] > 0.6 and o.id != last_obj]
        if choices and u < cfg.p_attend + cfg.p_glance:
            obj = world.objects[int(rng.choice(choices))]
            span = cfg.dwell_ms if u < cfg.p_attend else cfg.glance_ms
            dur_ms = int(rng.uniform(*span))
            ow, oh = obj.extent()
            m = min(ow, oh)
            off = np.clip(rng.normal(0.0, 0.12 * m, 2), -0.25 * m, 0.25 * m)
            lag = int(rng.uniform(*cfg.pursuit_lag_ms))
            e = min(t + dur_ms, n)
            idx = np.arange(t, e)
            target = centers[obj.id, np.clip(idx - lag, 0, n - 1)] + off
            land = _saccade(gaze, t, target, px_deg)
            attended[land:e] = obj.id
            if e - land >= ATTENTION_MIN_MS:
                episodes.append((land, e, obj.id))
            last_obj, last_xy = obj.id, (float(target[-1, 0]), float(target[-1, 1]))
            t = e
            continue
        last_obj = -1
        for _ in range(int(rng.integers(1, 4))):
            xy = _background_point(world, rng, t, last_xy, px_deg)
            e = min(t + int(rng.uniform(250, 700)), n)
            _saccade(gaze, t, np.tile(xy, (e - t, 1)), px_deg)
            last_xy, t = xy, e
            if t >= n:
                break
    gaze += _fixational_noise(rng, n, px_deg)
    mult, _ = _blinks(rng, n)
    openness = 0.93 * mult
    frames = int(round(cfg.seconds * FPS))
    return Clip(world, gaze, openness, attended, tuple(episodes), frames)


def _saccade(gaze: np.ndarray, s: int, target: np.ndarray, px_deg: float) -> int:
    """Write a minimum-jerk saccade from gaze[s-1] onto ``target`` (then follow it); return where it lands."""
    p0 = gaze[s - 1].copy() if s > 0 else gaze[0].copy()
    amp = CAMERA.angle_deg(p0[0], p0[1], target[0, 0], target[0, 1])
    dur = min(max(int(round(21 + 2.2 * amp)), 20), len(target))
    sig = _min_jerk(np.arange(1, dur + 1) / dur)[:, None]
    e = s + len(target)
    gaze[s : s + dur] = (1 - sig) * p0 + sig * target[:dur]
    gaze[s + dur : e] = target[dur:]
    return s + dur


def object_boxes(world: SceneWorld, t_s: np.ndarray) -> np.ndarray:
    """(n_objects, T, 4) [x, y, w, h] in scene px, clipped to the frame exactly as render_scene clips them."""
    raw = world.bboxes(np.asarray(t_s, float))
    x0 = np.clip(raw[..., 0], 0.0, None)
    y0 = np.clip(raw[..., 1], 0.0, None)
    x1 = np.clip(raw[..., 0] + raw[..., 2], None, float(world.width))
    y1 = np.clip(raw[..., 1] + raw[..., 3], None, float(world.height))
    return np.stack([x0, y0, np.maximum(x1 - x0, 0.0), np.maximum(y1 - y0, 0.0)], axis=-1)
