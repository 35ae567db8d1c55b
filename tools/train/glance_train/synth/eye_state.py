"""What one eye image depends on (geometry, appearance, gaze, pupil, lids) and the labels that come back.

Kept apart from the renderer so datasets and samplers can build and inspect states without drawing anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glance_train.synth.eye_model import EyeGeometry, make_eye_geometry


@dataclass(frozen=True)
class EyeAppearance:
    """What stays fixed for one wearer and camera; hashable so its textures are built once and cached."""

    texture_seed: int
    skin: float = 95.0
    sclera: float = 175.0
    iris: float = 100.0
    pupil: float = 22.0
    glint: float = 250.0
    n_leds: int = 2
    lashes: int = 10
    light_angle: float = 0.7
    light_strength: float = 0.25

    @staticmethod
    def random(rng: np.random.Generator) -> EyeAppearance:
        return EyeAppearance(
            texture_seed=int(rng.integers(0, 2**31)),
            skin=float(rng.uniform(70, 115)),
            sclera=float(rng.uniform(150, 200)),
            iris=float(rng.uniform(75, 120)),
            pupil=float(rng.uniform(12, 32)),
            glint=float(rng.uniform(230, 255)),
            n_leds=int(rng.integers(1, 3)),
            lashes=int(rng.integers(6, 15)),
            light_angle=float(rng.uniform(0, 2 * math.pi)),
            light_strength=float(rng.uniform(0.1, 0.35)),
        )


@dataclass(frozen=True)
class EyeState:
    """Everything that determines one eye image apart from sensor noise."""

    geometry: EyeGeometry
    appearance: EyeAppearance
    gaze: tuple[float, float, float]
    """Unit gaze direction in the head frame."""
    pupil_radius_mm: float
    openness: float
    """Lid gap as a fraction of its relaxed opening: 1 open, 0 closed."""
    blink: bool = False
    squint: float = 0.0
    """Lower-lid raise (0..1) of an expression such as a smile or disgust; 0 for the neutral lids."""


@dataclass(frozen=True)
class EyeAugment:
    """Sensor and optics variation applied after rendering; the defaults are mild to keep videos small."""

    noise_sigma: float = 2.0
    blur_sigma: float = 0.7
    gain: float = 1.0
    offset: float = 0.0
    reflections_mm: tuple[tuple[float, float, float], ...] = ()
    """Extra light sources (eye-camera frame, mm), e.g. a window or a lamp: their corneal reflections move
    with the eye like the LED glints but are larger, and they cross the pupil edge far more often."""
    reflection_sigma: float = 2.2

    @staticmethod
    def random(rng: np.random.Generator) -> EyeAugment:
        return EyeAugment(
            noise_sigma=float(rng.uniform(0.5, 8.0)),
            blur_sigma=float(rng.uniform(0.3, 1.8)),
            gain=float(rng.uniform(0.7, 1.3)),
            offset=float(rng.uniform(-20, 20)),
        )


@dataclass(frozen=True)
class EyeTruth:
    """Labels for one rendered image, in its pixels (ellipse convention as ``eye_model.Ellipse``)."""

    cx: float
    cy: float
    major: float
    minor: float
    angle_deg: float
    openness: float
    blink: bool
    pupil_visible: float
    """Fraction of the pupil's area not hidden by the lids."""
    glints: tuple[tuple[float, float], ...]


def random_eye_state(rng: np.random.Generator, geometry: EyeGeometry | None = None) -> EyeState:
    """An eye state spread over the range a wearer uses, for training a pupil detector on single images."""
    geom = geometry or make_eye_geometry("right" if rng.random() < 0.5 else "left", rng)
    az, el = math.radians(rng.uniform(-30, 30)), math.radians(rng.uniform(-25, 22))
    gaze = (math.sin(az) * math.cos(el), -math.sin(el), math.cos(az) * math.cos(el))
    closing = rng.random() < 0.1
    openness = float(rng.uniform(0.0, 0.3) if closing else rng.uniform(0.6, 1.0))
    return EyeState(
        geometry=geom,
        appearance=EyeAppearance.random(rng),
        gaze=gaze,
        pupil_radius_mm=float(rng.uniform(1.6, 3.1)),
        openness=openness,
        blink=openness < 0.25,
    )
