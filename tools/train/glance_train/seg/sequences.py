"""Short synthetic scene videos with per-frame class masks: what adaptive resolution is trained and judged on.

A sequence is one world (objects moving on their own paths), one room with its clutter and light, seen by a
head that alternates between holding still and turning (a smooth pan of the whole view, up to ~60 px/s at
640×480), sampled at ``fps``. Still stretches are where reusing the last label map costs nothing and loses
little; turns are where it loses a lot: the variation an adaptive policy can exploit. Pixels and masks come
from the same drawing code as the single-frame data (``seg.render``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from glance_train.seg.render import CAMERA, LABELS, _clutter, _photometric, _room, _scaled_world
from glance_train.synth.scene_render import draw_object
from glance_train.synth.seeding import child_rng


@dataclass(frozen=True)
class SequenceConfig:
    count: int = 16
    frames: int = 40
    fps: float = 10.0
    seed: int = 0
    width: int = 160
    height: int = 120


def _head_path(rng: np.random.Generator, frames: int, fps: float) -> np.ndarray:
    """(frames, 2) view offsets in camera px: still stretches and smooth turns of random direction."""
    out = np.zeros((frames, 2))
    pos, vel, i = np.zeros(2), np.zeros(2), 0
    while i < frames:
        n = int(rng.integers(5, 15))
        moving = rng.random() < 0.5
        target = rng.uniform(-1, 1, 2) * rng.uniform(20, 70) if moving else np.zeros(2)
        for _ in range(n):
            if i >= frames:
                break
            vel = 0.6 * vel + 0.4 * target / fps * 3
            pos = np.clip(pos + vel, -60, 60)
            out[i] = pos
            i += 1
    return out


def render_sequence(cfg: SequenceConfig, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(BGR uint8 (T, H, W, 3), labels uint8 (T, H, W)) at the config's size."""
    rng = child_rng(cfg.seed, "seq", index)
    world = _scaled_world(rng, (0.8, 2.0), int(rng.integers(0, 2**31)))
    room = _room(world).copy()
    _clutter(room, None, rng, int(rng.integers(2, 8)))
    head = _head_path(rng, cfg.frames, cfg.fps)
    photo_seed = int(rng.integers(0, 2**31))
    t0 = float(rng.uniform(0, 60))
    images, masks = [], []
    size = (cfg.width, cfg.height)
    for k in range(cfg.frames):
        t = t0 + k / cfg.fps
        img = room.copy()
        labels = np.zeros(img.shape[:2], np.uint8)
        centers = world.centers(np.array([t]))[:, 0]
        for obj in sorted(world.objects, key=lambda o: o.depth):
            cx, cy = (float(v) for v in centers[obj.id])
            draw_object(img, obj, cx, cy)
            draw_object(labels, obj, cx, cy, label=LABELS.index(obj.cls))
        shift = np.array([[1.0, 0.0, head[k, 0]], [0.0, 1.0, head[k, 1]]])
        img = cv2.warpAffine(img, shift, CAMERA, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        labels = cv2.warpAffine(labels, shift, CAMERA, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
        small = cv2.resize(cv2.GaussianBlur(img, (0, 0), 0.6), size, interpolation=cv2.INTER_AREA)
        # One light and lens per sequence (same generator state every frame), so frame differences are motion.
        small = _photometric(small, np.random.default_rng(photo_seed), cfg.width / CAMERA[0])
        images.append(small)
        masks.append(cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST))
    return np.stack(images), np.stack(masks)
