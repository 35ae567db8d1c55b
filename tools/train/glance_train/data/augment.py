"""Image augmentations for eye crops, on top of the renderer's own eye: what a real eye camera adds.

Each function takes the image as float32 (0..255, 192x192 or any size) and an explicit generator, and returns
a new image; labels change only for the geometric one, which returns the affine map it applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and strengths; ``AugmentConfig.off()`` gives clean renders (sensor noise aside)."""

    shift_px: float = 14.0
    """Largest camera slippage, in pixels of the 192x192 image."""
    scale: float = 0.12
    """Largest relative zoom change (eye-to-camera distance)."""
    p_reflection: float = 0.5
    p_lashes: float = 0.35
    p_illumination: float = 0.7
    p_motion_blur: float = 0.15
    sensor: bool = True
    """Blur, gain/offset and noise with the renderer's own ranges (``EyeAugment.random``)."""

    @staticmethod
    def off() -> AugmentConfig:
        return AugmentConfig(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, sensor=False)


def shift_scale(
    img: np.ndarray, rng: np.random.Generator, shift_px: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Slippage and zoom about the image centre; returns the image and the 2x3 map applied to its pixels."""
    h, w = img.shape
    s = float(1.0 + rng.uniform(-scale, scale))
    dx, dy = (float(v) for v in rng.uniform(-shift_px, shift_px, 2))
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.array([[s, 0.0, (1 - s) * cx + dx], [0.0, s, (1 - s) * cy + dy]], np.float64)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return out, m


def illumination(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An uneven IR field: a linear gradient and a vignette, as from an off-axis LED and a cheap lens."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    u = ((xx - w / 2) * math.cos(a) + (yy - h / 2) * math.sin(a)) / w
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (w * w)
    field = 1.0 + rng.uniform(0.0, 0.5) * u - rng.uniform(0.0, 0.8) * r2
    return img * field.astype(np.float32)


def reflections(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Specular reflections of the surroundings (windows, lamps, a screen) on the cornea and the glasses.

    Soft bright ellipses and streaks anywhere, over the pupil too: a detector must not take them for glints or
    lose the pupil under them.
    """
    h, w = img.shape
    layer = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        centre = (float(rng.uniform(0.15, 0.85) * w), float(rng.uniform(0.15, 0.85) * h))
        axes = (float(rng.uniform(3, 22)), float(rng.uniform(1.5, 8)))
        box = (centre, (2 * axes[0], 2 * axes[1]), float(rng.uniform(0, 180)))
        cv2.ellipse(layer, box, float(rng.uniform(0.3, 1.0)), -1)
    layer = cv2.GaussianBlur(layer, (0, 0), float(rng.uniform(1.0, 4.0)))
    bright = float(rng.uniform(180, 255))
    return img + layer * (bright - img)


def lashes(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Extra lashes and stray hairs across the eye (mascara, a fringe): darker, longer than the renderer's."""
    h, w = img.shape
    marks = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(3, 12))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h * 0.6)
        ang = rng.uniform(math.pi * 0.25, math.pi * 0.75)
        length = rng.uniform(15, 60)
        bend = rng.uniform(-0.4, 0.4)
        t = np.linspace(0, 1, 8)
        xs = x0 + np.cos(ang + bend * t) * length * t
        ys = y0 + np.sin(ang + bend * t) * length * t
        pts = np.round(np.stack([xs, ys], 1) * 16).astype(np.int32)
        cv2.polylines(marks, [pts], False, float(rng.uniform(0.4, 0.9)), 1, cv2.LINE_AA, 4)
    return img - marks * (img - 15.0)


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A saccade during the exposure smears the image along one direction."""
    n = int(rng.integers(3, 8))
    kernel = np.zeros((n, n), np.float32)
    kernel[n // 2, :] = 1.0 / n
    rot = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (n, n))
    return cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6), borderType=cv2.BORDER_REFLECT_101)


def sensor(
    img: np.ndarray, rng: np.random.Generator, blur: float, gain: float, offset: float, noise: float
) -> np.ndarray:
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img = img * gain + offset
    return img + noise * rng.standard_normal(img.shape, dtype=np.float32)
