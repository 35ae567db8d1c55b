"""Deterministic synthetic data: eye images with known pupils, scenes with known objects, whole sessions.

Everything takes an explicit ``numpy.random.Generator`` (or a seed) so that a dataset built from these
functions is reproducible and safe to use from several DataLoader workers; nothing touches global RNG state.
"""

from glance_train.synth.eye_model import Ellipse, EyeGeometry, make_eye_geometry, pupil_ellipse
from glance_train.synth.eye_render import render_eye
from glance_train.synth.eye_state import EyeAppearance, EyeAugment, EyeState, EyeTruth, random_eye_state
from glance_train.synth.scene_camera import SceneCamera

__all__ = [
    "Ellipse",
    "EyeAppearance",
    "EyeAugment",
    "EyeGeometry",
    "EyeState",
    "EyeTruth",
    "SceneCamera",
    "make_eye_geometry",
    "pupil_ellipse",
    "random_eye_state",
    "render_eye",
]
