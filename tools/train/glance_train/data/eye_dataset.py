"""Synthetic eye crops with pupil-ellipse and open/closed labels, as a PyTorch dataset.

Item ``i`` of a dataset with seed ``s`` depends only on ``(s, i)`` (its own keyed random stream), so an item
is the same in any process, any DataLoader worker and any order, and a held-out split is another seed.
Images are rendered at the eye camera's 192x192 by ``glance_train.synth`` and downscaled as the device does
(``cv2.INTER_AREA``); pupil labels are in fractions of the image, valid at any resolution.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from glance_train.data import augment as aug
from glance_train.synth import EyeAugment, EyeState, EyeTruth, random_eye_state, render_eye
from glance_train.synth.eye_model import REFERENCE_SIZE
from glance_train.synth.seeding import child_rng

TARGETS = ("cx", "cy", "major", "minor", "sin2t", "cos2t", "open", "visible", "openness")
"""Columns of a target vector. Positions and lengths are fractions of the image side; a pixel centre sits at
``(x + 0.5) / side``, so ``x_px = cx * side - 0.5`` at any resolution."""

_CLEAN = EyeAugment(noise_sigma=0.0, blur_sigma=0.0)  # sensor effects come last, after the other layers


@dataclass(frozen=True)
class EyeDatasetConfig:
    size: int = 4000
    seed: int = 0
    input_size: int = 96
    closed_fraction: float = 0.25
    """Share of closed or closing eyes (the renderer's own sampler has 10%): enough to learn a blink."""
    augment: aug.AugmentConfig = field(default_factory=aug.AugmentConfig)

    @staticmethod
    def from_dict(raw: dict[str, object]) -> EyeDatasetConfig:
        values = dict(raw)
        if isinstance(values.get("augment"), dict):
            values["augment"] = aug.AugmentConfig(**values["augment"])  # type: ignore[arg-type]
        elif values.get("augment") is False:
            values["augment"] = aug.AugmentConfig.off()
        return EyeDatasetConfig(**values)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def sample_state(rng: np.random.Generator, closed_fraction: float) -> EyeState:
    """The renderer's state sampler, with the share of closed eyes raised to ``closed_fraction``."""
    state = random_eye_state(rng)
    extra = max(0.0, (closed_fraction - 0.1) / 0.9)  # random_eye_state already closes 10%
    if not state.blink and rng.random() < extra:
        openness = float(rng.uniform(0.0, 0.25))
        state = dataclasses.replace(state, openness=openness, blink=True)
    return state


def target_vector(truth: EyeTruth, affine: np.ndarray | None, side: int = REFERENCE_SIZE) -> np.ndarray:
    cx, cy, scale = truth.cx, truth.cy, 1.0
    if affine is not None:
        scale = float(affine[0, 0])
        cx, cy = (affine @ np.array([truth.cx, truth.cy, 1.0])).tolist()
    t = math.radians(2.0 * truth.angle_deg)
    return np.array(
        [
            (cx + 0.5) / side,
            (cy + 0.5) / side,
            truth.major * scale / side,
            truth.minor * scale / side,
            math.sin(t),
            math.cos(t),
            0.0 if truth.blink else 1.0,
            truth.pupil_visible,
            truth.openness,
        ],
        np.float32,
    )


def render_item(config: EyeDatasetConfig, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Item ``index``: a uint8 (input_size, input_size) image and its float32 target vector (``TARGETS``)."""
    rng = child_rng(config.seed, "eye-dataset", index)
    state = sample_state(rng, config.closed_fraction)
    image, truth = render_eye(state, rng, REFERENCE_SIZE, _CLEAN)
    img = image.astype(np.float32)
    a = config.augment
    affine = None
    if a.shift_px > 0 or a.scale > 0:
        img, affine = aug.shift_scale(img, rng, a.shift_px, a.scale)
    if rng.random() < a.p_illumination:
        img = aug.illumination(img, rng)
    if rng.random() < a.p_reflection:
        img = aug.reflections(img, rng)
    if rng.random() < a.p_lashes:
        img = aug.lashes(img, rng)
    if rng.random() < a.p_motion_blur:
        img = aug.motion_blur(img, rng)
    if a.sensor:
        s = EyeAugment.random(rng)
        img = aug.sensor(img, rng, s.blur_sigma, s.gain, s.offset, s.noise_sigma)
    img8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if config.input_size != REFERENCE_SIZE:
        img8 = cv2.resize(img8, (config.input_size, config.input_size), interpolation=cv2.INTER_AREA)
    return img8, target_vector(truth, affine)


class EyeDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Renders on demand: ``(image (1, S, S) float32 in [0, 1], target (len(TARGETS),) float32)``."""

    def __init__(self, config: EyeDatasetConfig) -> None:
        self.config = config

    def __len__(self) -> int:
        return self.config.size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < self.config.size:
            raise IndexError(index)
        img, target = render_item(self.config, index)
        return torch.from_numpy(img).float().div_(255.0).unsqueeze(0), torch.from_numpy(target)
