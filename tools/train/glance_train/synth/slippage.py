"""Headset slippage: the frame slides on the nose, so the eye cameras move relative to the eyes.

Modelled as a translation of each eye camera parallel to its image plane, sized so that the image of the
eyeball centre moves by a given number of pixels. It is a translation, not a rotation, on purpose: points
nearer the camera (the pupil) then move further in the image than the eyeball centre does, as they do on real
glasses, so a slippage correction cannot get away with shifting the whole image back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from glance_train.synth.eye_model import EyeGeometry


@dataclass(frozen=True)
class Slip:
    at_s: float
    """Seconds from the clock origin at which the frame starts to move."""
    px: tuple[float, float]
    """Final shift of the eyeball centre's image (x, y), eye-camera pixels at 192 px."""
    ramp_s: float = 0.5
    """How long the movement takes (smoothly, start to stop)."""

    def fraction(self, t_s: float) -> float:
        """How far through the movement the frame is at ``t_s``: 0 before, 1 after."""
        if t_s <= self.at_s:
            return 0.0
        if self.ramp_s <= 0 or t_s >= self.at_s + self.ramp_s:
            return 1.0
        s = (t_s - self.at_s) / self.ramp_s
        return float(s * s * (3 - 2 * s))

    def to_json(self) -> dict[str, object]:
        return {"atUs": int(round(self.at_s * 1e6)), "rampUs": int(round(self.ramp_s * 1e6)),
                "px": [float(self.px[0]), float(self.px[1])],
                "model": "eye cameras moved parallel to their image planes; px: the eyeball centre's shift"}


def slipped_geometry(geom: EyeGeometry, shift_px: tuple[float, float]) -> EyeGeometry:
    """``geom`` with its camera moved so the eyeball centre's image moves by ``shift_px``."""
    if shift_px == (0.0, 0.0):
        return geom
    depth = float(geom.eyeball_center_cam()[2])
    # The image moves against the camera: a camera step of -d·z/f shifts a point at depth z by +d pixels.
    step_cam = -np.array([shift_px[0], shift_px[1], 0.0]) * depth / geom.focal_px
    moved = np.asarray(geom.camera_position_mm) + step_cam @ geom.rot
    return dataclasses.replace(geom, camera_position_mm=(float(moved[0]), float(moved[1]), float(moved[2])))
