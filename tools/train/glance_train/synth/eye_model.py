"""3D eye geometry seen by a near-IR eye camera, reduced to what the image shows.

Frames: the head frame is the scene camera's (x right, y down, z forward, millimetres), so a gaze target
in scene pixels turns into an eye rotation without an extra calibration. Each eye camera has its own frame
(x right and y down in its image, z along its optical axis). Geometry is specified for a 192x192 image;
``scale`` arguments resize it for other image sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Side = Literal["right", "left"]
REFERENCE_SIZE = 192
TARGET_DEPTH_MM = 1000.0


@dataclass(frozen=True)
class Ellipse:
    """An image ellipse: full axis lengths; ``angle_deg`` is the major axis direction from +x towards +y.

    ``cv2.ellipse(img, ((cx, cy), (major, minor), angle_deg), ...)`` draws exactly this ellipse.
    """

    cx: float
    cy: float
    major: float
    minor: float
    angle_deg: float


@dataclass(frozen=True)
class EyeGeometry:
    side: Side
    eye_position_mm: tuple[float, float, float]
    """Eyeball rotation centre in the head frame; its offset from the scene camera gives vergence/parallax."""
    camera_position_mm: tuple[float, float, float]
    rotation: tuple[float, ...]
    """Row-major 3x3, head frame to eye-camera frame."""
    focal_px: float
    principal_px: tuple[float, float]
    eyeball_radius_mm: float = 12.0
    iris_radius_mm: float = 5.9
    cornea_offset_mm: float = 5.3
    cornea_radius_mm: float = 7.8
    leds_cam_mm: tuple[tuple[float, float, float], ...] = ((-7.0, 3.0, 0.0), (7.0, 4.0, 0.0))

    @property
    def rot(self) -> np.ndarray:
        return np.asarray(self.rotation, float).reshape(3, 3)

    def to_camera(self, p_head: np.ndarray) -> np.ndarray:
        """Head-frame points (..., 3) to eye-camera coordinates."""
        return (np.asarray(p_head, float) - np.asarray(self.camera_position_mm)) @ self.rot.T

    def project(self, p_cam: np.ndarray, scale: float = 1.0) -> np.ndarray:
        p = np.asarray(p_cam, float)
        f = self.focal_px * scale
        uv = f * p[..., :2] / p[..., 2:3]
        return uv + np.asarray(self.principal_px) * scale

    def eyeball_center_cam(self) -> np.ndarray:
        return self.to_camera(np.asarray(self.eye_position_mm))

    def eyeball_center_px(self, scale: float = 1.0) -> tuple[float, float]:
        u, v = self.project(self.eyeball_center_cam(), scale)
        return float(u), float(v)

    def eyeball_radius_px(self, scale: float = 1.0) -> float:
        return float(self.focal_px * scale * self.eyeball_radius_mm / self.eyeball_center_cam()[2])

    def to_json(self) -> dict[str, object]:
        cx, cy = self.eyeball_center_px()
        return {
            "side": self.side,
            "imageSize": REFERENCE_SIZE,
            "eyeballCenterPx": [round(cx, 3), round(cy, 3)],
            "eyeballRadiusPx": round(self.eyeball_radius_px(), 3),
            "eyeballRadiusMm": self.eyeball_radius_mm,
            "irisRadiusMm": self.iris_radius_mm,
            "focalPx": round(self.focal_px, 3),
            "principalPx": [round(self.principal_px[0], 3), round(self.principal_px[1], 3)],
            "eyePositionHeadMm": [round(v, 3) for v in self.eye_position_mm],
            "cameraPositionHeadMm": [round(v, 3) for v in self.camera_position_mm],
            "rotationHeadToCamera": [round(v, 6) for v in self.rotation],
            "targetDepthMm": TARGET_DEPTH_MM,
        }


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def make_eye_geometry(side: Side, rng: np.random.Generator) -> EyeGeometry:
    """A plausible head-mounted eye camera for one eye, with per-device jitter.

    The camera sits below, in front and to the outer side of the eye, looking up at it like Pupil Core's eye
    cameras. That oblique view is what makes the pupil-to-gaze mapping smooth but clearly non-linear.
    """
    s = 1.0 if side == "right" else -1.0
    j = lambda scale: float(rng.normal(0.0, scale))  # noqa: E731
    eye = np.array([s * 32.0 + j(1.5), 30.0 + j(1.5), -15.0 + j(1.0)])
    cam = eye + np.array([s * (11.0 + j(1.5)), 17.0 + j(1.5), 40.0 + j(1.5)])
    # Aim at the cornea for a straight-ahead gaze so the pupil stays in view over the whole scene.
    aim = eye + np.array([j(1.5), j(1.5), 10.0])
    z = _normalize(aim - cam)
    down = np.array([0.0, 1.0, 0.0])
    y = _normalize(down - np.dot(down, z) * z)
    x = np.cross(y, z)
    roll = math.radians(j(4.0))
    x, y = math.cos(roll) * x + math.sin(roll) * y, -math.sin(roll) * x + math.cos(roll) * y
    rot = np.stack([x, y, z])
    focal = 215.0 * (1.0 + j(0.03))
    principal = (95.5 + j(2.0), 95.5 + j(2.0))
    return EyeGeometry(
        side=side,
        eye_position_mm=(float(eye[0]), float(eye[1]), float(eye[2])),
        camera_position_mm=(float(cam[0]), float(cam[1]), float(cam[2])),
        rotation=tuple(float(v) for v in rot.ravel()),
        focal_px=focal,
        principal_px=principal,
        eyeball_radius_mm=12.0 + j(0.3),
        iris_radius_mm=5.9 + j(0.15),
    )


def gaze_from_scene(
    geom: EyeGeometry, rays: np.ndarray, depth_mm: float = TARGET_DEPTH_MM
) -> np.ndarray:
    """Head-frame gaze directions (..., 3) of this eye towards points on scene-camera rays at a fixed depth.

    The fixed depth stands in for the parallax between eye and scene camera: small but not zero, as in use.
    """
    target = np.asarray(rays, float) * (depth_mm / np.asarray(rays)[..., 2:3])
    return _normalize(target - np.asarray(geom.eye_position_mm))


def gaze_angles(gaze_head: np.ndarray) -> tuple[float, float]:
    """(azimuth, elevation) in radians; elevation is positive upwards."""
    g = np.asarray(gaze_head, float)
    return math.atan2(g[0], g[2]), math.asin(min(max(-float(g[1]), -1.0), 1.0))


def pupil_ellipse(
    geom: EyeGeometry, gaze_head: np.ndarray, radius_mm: float, scale: float = 1.0
) -> Ellipse:
    """The image ellipse of a disc of ``radius_mm`` centred R along the gaze, facing along the gaze.

    Weak perspective about the disc centre: the renderer draws exactly this ellipse, so labels and pixels
    agree; the error against a full perspective projection is a small fraction of a pixel at these distances.
    """
    g = geom.rot @ np.asarray(gaze_head, float)
    p = geom.eyeball_center_cam() + geom.eyeball_radius_mm * g
    cx, cy = geom.project(p, scale)
    f = geom.focal_px * scale
    major = 2.0 * radius_mm * f / p[2]
    cos_t = abs(float(np.dot(g, -p / np.linalg.norm(p))))
    # Image direction of the disc normal at its centre: the axis along which the circle is foreshortened.
    du = f * (g[0] * p[2] - p[0] * g[2]) / p[2] ** 2
    dv = f * (g[1] * p[2] - p[1] * g[2]) / p[2] ** 2
    angle = 0.0 if math.hypot(du, dv) < 1e-9 else (math.degrees(math.atan2(dv, du)) + 90.0) % 180.0
    return Ellipse(float(cx), float(cy), float(major), float(major * cos_t), angle)


def glint_points(geom: EyeGeometry, gaze_head: np.ndarray, scale: float = 1.0) -> list[tuple[float, float]]:
    """Image positions of the corneal reflections of the camera's IR LEDs.

    The cornea is a sphere ahead of the eyeball centre, so glints move less than the pupil when the eye turns
    and drift across the pupil edge. A glint off the corneal cap (against the sclera it is dim and diffuse) is
    dropped.
    """
    g = geom.rot @ np.asarray(gaze_head, float)
    c = geom.eyeball_center_cam() + geom.cornea_offset_mm * g
    to_cam = _normalize(-c)
    out: list[tuple[float, float]] = []
    for led in geom.leds_cam_mm:
        n = _normalize(to_cam + _normalize(np.asarray(led) - c))
        if float(np.dot(n, g)) < math.cos(math.radians(48.0)):
            continue
        u, v = geom.project(c + geom.cornea_radius_mm * n, scale)
        out.append((float(u), float(v)))
    return out


def lid_curves(
    geom: EyeGeometry,
    gaze_head: np.ndarray,
    openness: float,
    scale: float = 1.0,
    n: int = 25,
    squint: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper lid, lower lid and upper-lid crease as image polylines (n, 2), inner to outer corner.

    Lids are curves on a sphere slightly larger than the eyeball: the upper lid follows vertical gaze strongly
    and the lower lid weakly (as real lids do), and ``openness`` moves the upper lid between the lower lid and
    its open position, so a blink closes downwards. ``squint`` (0..1) raises the lower lid by up to 12 degrees,
    as the orbicularis does in a smile or a frown; 0 leaves every image as it was before the option existed.
    """
    _, elev = gaze_angles(gaze_head)
    phi_c = math.radians(46.0)
    phi = np.linspace(-phi_c, phi_c, n)
    bump = (1.0 - (phi / phi_c) ** 2) ** 0.7
    corner = math.radians(-6.0) + 0.3 * elev
    upper_open = math.radians(25.0) + 0.75 * elev
    lower = math.radians(-27.0 + 12.0 * min(max(float(squint), 0.0), 1.0)) + 0.25 * elev
    th_lower = corner + (lower - corner) * bump
    th_open = corner + (upper_open - corner) * bump
    th_upper = th_lower + min(max(float(openness), 0.0), 1.0) * (th_open - th_lower)
    th_crease = corner + (upper_open + math.radians(12.0) - corner) * bump + math.radians(6.0) * (1 - bump)

    def curve(theta: np.ndarray, radius: float) -> np.ndarray:
        d = np.stack([np.sin(phi) * np.cos(theta), -np.sin(theta), np.cos(phi) * np.cos(theta)], axis=-1)
        pts = np.asarray(geom.eye_position_mm) + radius * d
        return geom.project(geom.to_camera(pts), scale)

    r = geom.eyeball_radius_mm + 1.2
    return curve(th_upper, r), curve(th_lower, r), curve(th_crease, r + 1.5)
