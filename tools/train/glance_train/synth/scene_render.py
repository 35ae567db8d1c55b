"""Scene-camera frames: a textured room, the moving objects, and the calibration marker."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from glance_train.synth.scene_objects import SceneObject, SceneWorld

_SHIFT = 4  # sub-pixel drawing so slow objects glide instead of stepping a pixel at a time
_ONE = 1 << _SHIFT
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class SceneTruth:
    bboxes: np.ndarray
    """(n_objects, 4) [x, y, w, h] of each object's drawing, clipped to the frame."""
    visible: np.ndarray
    """(n_objects,) fraction of each object's silhouette that is in the frame and not occluded."""


@lru_cache(maxsize=4)
def background(world: SceneWorld) -> np.ndarray:
    """A wall over a table, lit unevenly, with soft blobs; textured enough that a detector cannot key on
    flatness, smooth enough that H.264 keeps the sample small."""
    rng = np.random.default_rng(world.texture_seed)
    h, w = world.height, world.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    horizon = h * rng.uniform(0.55, 0.7)
    wall = np.array(rng.uniform([150, 160, 170], [200, 205, 215]), np.float32)
    table = np.array(rng.uniform([60, 90, 120], [100, 130, 170]), np.float32)
    t = np.clip((yy - horizon) / 6.0 + 0.5, 0.0, 1.0)[..., None]
    img = wall * (1 - t) + table * t
    light = 1.0 + 0.18 * ((xx - w * rng.uniform(0.2, 0.8)) / w) - 0.25 * ((yy / h) - 0.3) ** 2
    img = img * light[..., None]
    blobs = np.zeros((h, w, 3), np.float32)
    for _ in range(int(rng.integers(18, 30))):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(15, 80)), int(rng.uniform(10, 50)))
        tone = (rng.uniform(-30, 30) + rng.uniform(-10, 10, 3)).tolist()  # mostly brightness, a little tint
        cv2.ellipse(blobs, c, axes, float(rng.uniform(0, 180)), 0, 360, tone, -1)
    img += cv2.GaussianBlur(blobs, (0, 0), 9.0)
    for _ in range(int(rng.integers(2, 4))):
        y = float(rng.uniform(0.1, 0.5) * h)
        shelf = rng.uniform(60, 110, 3).tolist()
        y1 = int(y + rng.uniform(-6, 6))
        cv2.line(img, (0, int(y)), (w, y1), shelf, int(rng.integers(3, 7)), cv2.LINE_AA)
    grain = cv2.GaussianBlur(rng.normal(0, 6.0, (h, w)).astype(np.float32), (0, 0), 1.5)
    return np.clip(img + grain[..., None], 0, 255).astype(np.uint8)


def _pts(cx: float, cy: float, s: float, local: list[tuple[float, float]]) -> np.ndarray:
    return np.round((np.array(local) * s + [cx, cy]) * _ONE).astype(np.int32)


def _xy(cx: float, cy: float) -> tuple[int, int]:
    return round(cx * _ONE), round(cy * _ONE)


def _shade(c: Colour, f: float) -> Colour:
    return (min(int(c[0] * f), 255), min(int(c[1] * f), 255), min(int(c[2] * f), 255))


def draw_object(img: np.ndarray, obj: SceneObject, cx: float, cy: float, label: int | None = None) -> None:
    """Draw ``obj`` centred at (cx, cy); with ``label``, only its silhouette in that value (for masks)."""
    s = obj.size
    aa = cv2.LINE_8 if label is not None else cv2.LINE_AA

    def col(c: Colour) -> Colour | int:
        return label if label is not None else c

    def poly(local: list[tuple[float, float]], c: Colour) -> None:
        cv2.fillPoly(img, [_pts(cx, cy, s, local)], col(c), aa, _SHIFT)

    base = obj.colour
    if obj.cls == "ball":
        cv2.circle(img, _xy(cx, cy), round(s / 2 * _ONE), col(base), -1, aa, _SHIFT)
        if label is None:
            roll = float(np.degrees(cx / (s / 2)))  # the stripe turns as the ball rolls
            axes = (round(0.42 * s * _ONE), round(0.16 * s * _ONE))
            stripe = max(2, int(0.07 * s))
            cv2.ellipse(img, _xy(cx, cy), axes, roll, 0, 360, (235, 235, 235), stripe, aa, _SHIFT)
            shine = _xy(cx - 0.17 * s, cy - 0.17 * s)
            cv2.circle(img, shine, round(0.08 * s * _ONE), _shade(base, 1.6), -1, aa, _SHIFT)
    elif obj.cls == "book":
        poly([(-0.4, -0.55), (0.4, -0.55), (0.4, 0.55), (-0.4, 0.55)], base)
        if label is None:
            poly([(-0.4, -0.55), (-0.28, -0.55), (-0.28, 0.55), (-0.4, 0.55)], _shade(base, 0.6))
            poly([(-0.18, -0.35), (0.3, -0.35), (0.3, -0.27), (-0.18, -0.27)], (200, 220, 230))
            poly([(-0.18, -0.2), (0.2, -0.2), (0.2, -0.15), (-0.18, -0.15)], (200, 220, 230))
    elif obj.cls == "cup":
        poly([(-0.475, -0.42), (0.275, -0.42), (0.225, 0.5), (-0.425, 0.5)], base)
        c_handle = _xy(cx + 0.3 * s, cy)
        axes = (round(0.14 * s * _ONE), round(0.2 * s * _ONE))
        cv2.ellipse(img, c_handle, axes, 0, -90, 90, col(base), max(2, int(0.06 * s)), aa, _SHIFT)
        rim = (round(0.375 * s * _ONE), round(0.08 * s * _ONE))
        rim_c = _xy(cx - 0.1 * s, cy - 0.42 * s)
        cv2.ellipse(img, rim_c, rim, 0, 0, 360, col(_shade(base, 0.7)), -1, aa, _SHIFT)
        if label is None:
            poly([(-0.46, -0.1), (0.26, -0.1), (0.25, 0.05), (-0.45, 0.05)], (60, 140, 230))
    elif obj.cls == "plant":
        poly([(-0.3, 0.25), (0.3, 0.25), (0.22, 0.7), (-0.22, 0.7)], (60, 95, 170))
        poly([(-0.15, 0.26), (0.15, 0.26), (0.0, -0.7)], base)
        poly([(-0.2, 0.26), (0.0, 0.26), (-0.45, -0.3)], _shade(base, 0.8))
        poly([(0.0, 0.26), (0.2, 0.26), (0.45, -0.3)], _shade(base, 1.2))
        if label is None:
            cv2.line(img, _xy(cx, cy + 0.2 * s), _xy(cx, cy - 0.55 * s), _shade(base, 0.5), 1, aa, _SHIFT)
    elif obj.cls == "phone":
        poly([(-0.275, -0.5), (0.275, -0.5), (0.275, 0.5), (-0.275, 0.5)], base)
        if label is None:
            poly([(-0.23, -0.42), (0.23, -0.42), (0.23, 0.4), (-0.23, 0.4)], (200, 150, 70))
            for k in range(3):
                y0 = -0.3 + 0.18 * k
                poly([(-0.17, y0), (0.17, y0), (0.17, y0 + 0.07), (-0.17, y0 + 0.07)], (240, 230, 220))
    else:
        raise ValueError(f"unknown object class {obj.cls!r}")


def draw_marker(img: np.ndarray, x: float, y: float, diameter: float = 40.0) -> None:
    """Concentric black/white rings on a white card, like Pupil Labs' calibration marker."""
    radii = (0.62, 0.5, 0.38, 0.26, 0.14, 0.05)
    for i, r in enumerate(radii):
        colour = (255, 255, 255) if i % 2 == 0 else (0, 0, 0)
        cv2.circle(img, _xy(x, y), round(r * diameter * _ONE), colour, -1, cv2.LINE_AA, _SHIFT)


def render_scene(
    world: SceneWorld, t_s: float, marker: tuple[float, float] | None = None, blur_sigma: float = 0.6
) -> tuple[np.ndarray, SceneTruth]:
    """One BGR scene frame at time ``t_s`` and the objects' boxes and visibility in it."""
    img = background(world).copy()
    labels = np.zeros((world.height, world.width), np.uint8)
    centers = world.centers(np.array([t_s]))[:, 0]
    n = len(world.objects)
    alone = np.zeros(n)
    boxes = np.zeros((n, 4))
    for obj in sorted(world.objects, key=lambda o: o.depth):
        cx, cy = (float(v) for v in centers[obj.id])
        draw_object(img, obj, cx, cy)
        draw_object(labels, obj, cx, cy, label=obj.id + 1)
        w, h = obj.extent()
        # Silhouette area with nothing in front and no frame edge, drawn the same way as in the label map.
        pad = 4
        roi = np.zeros((int(h) + 2 * pad + 2, int(w) + 2 * pad + 2), np.uint8)
        ox, oy = np.floor(cx - w / 2) - pad, np.floor(cy - h / 2) - pad
        draw_object(roi, obj, cx - ox, cy - oy, label=1)
        alone[obj.id] = np.count_nonzero(roi)
        x0, y0 = max(cx - w / 2, 0.0), max(cy - h / 2, 0.0)
        x1, y1 = min(cx + w / 2, world.width), min(cy + h / 2, world.height)
        boxes[obj.id] = [x0, y0, max(x1 - x0, 0.0), max(y1 - y0, 0.0)]
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    visible = np.clip(counts / np.maximum(alone, 1), 0.0, 1.0)
    if marker is not None:
        draw_marker(img, marker[0], marker[1])
    if blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
    return img, SceneTruth(boxes, visible)
