"""Synthetic scene frames with per-pixel class masks, from the scene renderer the sample sessions use.

Everything that decides a pixel or a label lives in this module (the dataset cache is keyed by its source).

Item ``i`` of a split with seed ``s`` depends only on ``(s, i)``: a fresh world of 4–6 objects
(``synth.scene_objects.make_world``, object sizes spread wider than a session's so that near and far objects
both occur), a random moment of its motion, and the renderer's own drawing, to which this module adds what a
real scene camera and a real room add: clutter (background shapes, some in object colours, some in front of
the objects), the calibration marker, uneven and tinted light, defocus or motion blur, sensor noise and
codec (JPEG) artefacts. Masks are drawn with the renderer's silhouettes (``draw_object(label=...)``) in
depth order, so occlusion is exact. Frames are rendered at the camera's 640×480 and downscaled as the device
does (``cv2.INTER_AREA``; masks by nearest neighbour). Images are BGR, as OpenCV delivers them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from glance_train.synth import scene_objects
from glance_train.synth.scene_objects import CLASSES, SceneWorld, make_world
from glance_train.synth.scene_render import background, draw_marker, draw_object
from glance_train.synth.seeding import child_rng

LABELS: tuple[str, ...] = ("background", *CLASSES)
CAMERA = (640, 480)


@dataclass(frozen=True)
class SegDatasetConfig:
    size: int = 2000
    seed: int = 0
    width: int = 160
    height: int = 120
    size_range: tuple[float, float] = (0.7, 2.2)
    """Objects are scaled by a factor from this range (a session's own sizes are the factor 1)."""
    clutter: bool = True
    photometric: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> SegDatasetConfig:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        return SegDatasetConfig(**values)


BACKGROUNDS_PER_SPLIT = 200
"""A room costs ~0.2 s to render at 640×480 and items share them: 200 rooms per split (per seed, so held-out
rooms are never seen in training), each lit, blurred and cluttered differently in every item."""


def _scaled_world(rng: np.random.Generator, size_range: tuple[float, float], room: int) -> SceneWorld:
    world = make_world(rng, *CAMERA)
    objects = tuple(dataclasses.replace(o, size=o.size * float(rng.uniform(*size_range))) for o in world.objects)
    return dataclasses.replace(world, objects=objects, texture_seed=room)


_rooms: dict[int, np.ndarray] = {}


def _room(world: SceneWorld) -> np.ndarray:
    if world.texture_seed not in _rooms:
        _rooms[world.texture_seed] = background(dataclasses.replace(world, objects=()))
    return _rooms[world.texture_seed]


def _clutter(img: np.ndarray, labels: np.ndarray | None, rng: np.random.Generator, count: int) -> None:
    """Shapes that are not objects: ellipses, boxes and strokes, some in an object class's colours."""
    h, w = img.shape[:2]
    palette = list(scene_objects.PALETTE.values())  # the classes' own colours make hard negatives
    for _ in range(count):
        if rng.random() < 0.4:
            base = palette[int(rng.integers(len(palette)))]
            colour = [int(np.clip(c + d, 0, 255)) for c, d in zip(base, rng.integers(-40, 41, 3), strict=True)]
        else:
            colour = [int(v) for v in rng.integers(0, 256, 3)]
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        kind = rng.integers(3)
        if kind == 0:
            axes = (int(rng.uniform(8, 70)), int(rng.uniform(4, 40)))
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(img, (cx, cy), axes, angle, 0, 360, colour, -1, cv2.LINE_AA)
            if labels is not None:
                cv2.ellipse(labels, (cx, cy), axes, angle, 0, 360, 0, -1)
        elif kind == 1:
            pts = (rng.uniform(-1, 1, (4, 2)) * rng.uniform(10, 60) + [cx, cy]).astype(np.int32)
            cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
            if labels is not None:
                cv2.fillPoly(labels, [pts], 0)
        else:
            end = (int(cx + rng.uniform(-120, 120)), int(cy + rng.uniform(-80, 80)))
            thick = int(rng.integers(2, 9))
            cv2.line(img, (cx, cy), end, colour, thick, cv2.LINE_AA)
            if labels is not None:
                cv2.line(labels, (cx, cy), end, 0, thick)


def _photometric(img: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """Uneven tinted light, blur (defocus or motion), noise and JPEG artefacts, applied to the downscaled
    frame (``scale`` = its size / the camera's; blur lengths are drawn in camera pixels)."""
    h, w = img.shape[:2]
    f = img.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    ramp = ((xx - w / 2) * math.cos(a) + (yy - h / 2) * math.sin(a)) / w
    field = rng.uniform(0.6, 1.35) * (1.0 + rng.uniform(0, 0.6) * ramp)
    tint = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    f = f * field[..., None] * tint
    gamma = rng.uniform(0.8, 1.25)
    f = 255.0 * np.clip(f / 255.0, 0, 1) ** gamma
    if rng.random() < 0.5:
        f = cv2.GaussianBlur(f, (0, 0), float(rng.uniform(0.5, 3.0)) * scale)
    elif rng.random() < 0.6:
        length = max(2, int(rng.integers(3, 16) * scale + 0.5))
        k = np.zeros((length, length), np.float32)
        k[length // 2, :] = 1.0 / length
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        k = cv2.warpAffine(k, rot, (length, length))
        f = cv2.filter2D(f, -1, k / max(float(k.sum()), 1e-6))
    f = f + rng.normal(0, rng.uniform(0, 6), f.shape).astype(np.float32)
    out = np.clip(f, 0, 255).astype(np.uint8)
    quality = int(rng.integers(45, 96))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else out


def render_item(cfg: SegDatasetConfig, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(BGR uint8 (H, W, 3), class labels uint8 (H, W)) at the config's size."""
    rng = child_rng(cfg.seed, "seg", index)
    room = int(child_rng(cfg.seed, "room", index % BACKGROUNDS_PER_SPLIT).integers(0, 2**31))
    world = _scaled_world(rng, cfg.size_range, room)
    img = _room(world).copy()
    labels = np.zeros(img.shape[:2], np.uint8)
    if cfg.clutter:
        _clutter(img, None, rng, int(rng.integers(2, 8)))
    t = float(rng.uniform(0, 60))
    centers = world.centers(np.array([t]))[:, 0]
    for obj in sorted(world.objects, key=lambda o: o.depth):
        cx, cy = (float(v) for v in centers[obj.id])
        draw_object(img, obj, cx, cy)
        draw_object(labels, obj, cx, cy, label=LABELS.index(obj.cls))
    if cfg.clutter and rng.random() < 0.4:
        _clutter(img, labels, rng, 1)  # something in front of the objects: occlusion by a non-object
    if rng.random() < 0.2:
        draw_marker(img, float(rng.uniform(40, CAMERA[0] - 40)), float(rng.uniform(40, CAMERA[1] - 40)))
    size = (cfg.width, cfg.height)
    small = cv2.resize(cv2.GaussianBlur(img, (0, 0), 0.6), size, interpolation=cv2.INTER_AREA)
    if cfg.photometric:
        small = _photometric(small, rng, cfg.width / CAMERA[0])
    return small, cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
