"""Pinhole model of the scene (world) camera: the link between scene pixels and gaze directions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SceneCamera:
    """Intrinsics of an undistorted scene camera; the camera frame is x right, y down, z forward."""

    width: int = 640
    height: int = 480
    fx: float = 520.0
    fy: float = 520.0
    cx: float = 321.5
    cy: float = 238.5

    def camera_matrix(self) -> list[float]:
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    def dist_coeffs(self) -> list[float]:
        return [0.0, 0.0, 0.0, 0.0, 0.0]

    def to_json(self) -> dict[str, list[float]]:
        return {"cameraMatrix": self.camera_matrix(), "distCoeffs": self.dist_coeffs()}

    def rays(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """Unit direction vectors, shape (..., 3), through pixel positions."""
        u = (np.asarray(x, float) - self.cx) / self.fx
        v = (np.asarray(y, float) - self.cy) / self.fy
        d = np.stack(np.broadcast_arrays(u, v, 1.0), axis=-1)
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    def angle_deg(self, x0: float, y0: float, x1: float, y1: float) -> float:
        """Visual angle between two scene pixels, as seen from the camera centre."""
        a, b = self.rays(x0, y0), self.rays(x1, y1)
        return float(np.degrees(np.arccos(np.clip(np.dot(a, b), -1.0, 1.0))))

    def px_per_deg(self) -> float:
        """Pixels per degree near the image centre; used to express small angular amplitudes in pixels."""
        return float(self.fx * np.tan(np.radians(1.0)))
