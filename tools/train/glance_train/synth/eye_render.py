"""Near-IR eye images from an eye state, with the exact pupil ellipse that was drawn.

Usable on its own by training code: ``render_eye(random_eye_state(rng), rng)`` gives an image and its labels.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache

import cv2
import numpy as np

from glance_train.synth.eye_model import REFERENCE_SIZE, glint_points, lid_curves, pupil_ellipse
from glance_train.synth.eye_state import EyeAppearance, EyeAugment, EyeState, EyeTruth, random_eye_state

__all__ = ["EyeAppearance", "EyeAugment", "EyeState", "EyeTruth", "random_eye_state", "render_eye"]

_SHIFT = 4  # cv2 sub-pixel bits: lids move smoothly instead of jumping a whole pixel
_ONE = 1 << _SHIFT


@lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx, yy


@lru_cache(maxsize=32)
def _skin(app: EyeAppearance, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Skin texture and the illumination field; the field also shades the eyeball so both share one light."""
    rng = np.random.default_rng(app.texture_seed)
    xx, yy = _grid(size)
    c = (size - 1) / 2
    u = ((xx - c) * math.cos(app.light_angle) + (yy - c) * math.sin(app.light_angle)) / size
    r2 = ((xx - c) ** 2 + (yy - c) ** 2) / (size * size)
    light = (1.0 + app.light_strength * 2.0 * u - 0.5 * r2).astype(np.float32)
    blobs = rng.normal(0.0, 1.0, (max(4, size // 12),) * 2).astype(np.float32)
    blobs = cv2.resize(blobs, (size, size), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.normal(0.0, 1.0, (size, size)).astype(np.float32), (0, 0), 1.2)
    skin = (app.skin * (1.0 + 0.06 * blobs) + 4.0 * fine) * light
    return skin.astype(np.float32), light


@lru_cache(maxsize=32)
def _iris_streaks(seed: int) -> np.ndarray:
    """A periodic angular profile: the radial fibres that make an iris textured rather than flat."""
    rng = np.random.default_rng(seed + 1)
    p = rng.normal(0.0, 1.0, 720)
    p = np.real(np.fft.ifft(np.fft.fft(p) * (np.abs(np.fft.fftfreq(720, 1 / 720)) < 90)))
    return (p / (np.abs(p).max() + 1e-9)).astype(np.float32)


@lru_cache(maxsize=32)
def _lash_params(seed: int, count: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 2)
    return np.stack(
        [rng.uniform(0.12, 0.92, count), rng.uniform(-0.45, 0.45, count), rng.uniform(7, 15, count)], axis=1
    )


def _poly_mask(pts: np.ndarray, size: int) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    cv2.fillPoly(m, [np.round(pts * _ONE).astype(np.int32)], 255, cv2.LINE_AA, _SHIFT)
    return m.astype(np.float32) * (1.0 / 255.0)


def _ellipse_coords(
    xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, ang: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets rotated into the ellipse frame: u along the major axis, v along the minor."""
    ca, sa = math.cos(ang), math.sin(ang)
    dx, dy = xx - cx, yy - cy
    return dx * ca + dy * sa, -dx * sa + dy * ca


def _soft_ellipse(u: np.ndarray, v: np.ndarray, a: float, b: float, edge: float) -> np.ndarray:
    """Anti-aliased coverage of an ellipse with semi-axes a, b from a first-order signed distance."""
    nu, nv = u / a, v / b
    rho = np.sqrt(nu * nu + nv * nv) + 1e-6
    grad = np.sqrt((nu / a) ** 2 + (nv / b) ** 2) / rho + 1e-6
    return np.clip(0.5 - (rho - 1.0) / grad / edge, 0.0, 1.0)


def _ellipse_roi(cx: float, cy: float, a: float, b: float, ang: float, size: int) -> tuple[slice, slice]:
    """Pixel window holding the ellipse: per-pixel maths only there keeps a frame at ~1 ms."""
    hw = math.hypot(a * math.cos(ang), b * math.sin(ang)) + 3
    hh = math.hypot(a * math.sin(ang), b * math.cos(ang)) + 3
    x0, x1 = max(int(cx - hw), 0), min(int(math.ceil(cx + hw)) + 1, size)
    y0, y1 = max(int(cy - hh), 0), min(int(math.ceil(cy + hh)) + 1, size)
    return slice(y0, max(y1, y0)), slice(x0, max(x1, x0))


@lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """Unit Gaussian fields; a frame takes a random window of one, far cheaper than fresh normals."""
    return np.random.default_rng(0x61A2CE).standard_normal((8, 512, 512), dtype=np.float32)


def _noise(rng: np.random.Generator, size: int) -> np.ndarray:
    bank = _noise_bank()
    if size > bank.shape[1] // 2:
        return rng.standard_normal((size, size), dtype=np.float32)
    i, y, x = int(rng.integers(bank.shape[0])), *(int(v) for v in rng.integers(0, bank.shape[1] - size, 2))
    field = bank[i, y : y + size, x : x + size]
    return field.T if rng.random() < 0.5 else field


def render_eye(
    state: EyeState, rng: np.random.Generator, size: int = REFERENCE_SIZE, augment: EyeAugment | None = None
) -> tuple[np.ndarray, EyeTruth]:
    """Render one grey eye image (uint8, size x size) and the labels of what was drawn."""
    aug = augment or EyeAugment()
    geom, app = state.geometry, state.appearance
    k = size / REFERENCE_SIZE
    gaze = np.asarray(state.gaze, float)
    ell = pupil_ellipse(geom, gaze, state.pupil_radius_mm, k)
    upper, lower, crease = lid_curves(geom, gaze, state.openness, k, squint=state.squint)
    xx, yy = _grid(size)
    skin, light = _skin(app, size)

    opening = _poly_mask(np.concatenate([upper, lower[::-1]]), size)
    above = np.concatenate([upper + [0.0, 2.0 * k], [[size + 8.0, -8.0], [-8.0, -8.0]]])
    shadow = cv2.GaussianBlur(_poly_mask(above, size), (0, 0), 3.0 * k)
    eye = app.sclera * light * (1.0 - 0.45 * shadow)

    ang = math.radians(ell.angle_deg)
    ratio = geom.iris_radius_mm / state.pupil_radius_mm
    ia, ib = ell.major / 2 * ratio, max(ell.minor / 2 * ratio, 1.0)
    ys, xs = _ellipse_roi(ell.cx, ell.cy, ia, ib, ang, size)
    u, v = _ellipse_coords(xx[ys, xs], yy[ys, xs], ell.cx, ell.cy, ang)
    iris_cov = _soft_ellipse(u, v, ia, ib, 1.6 * k)
    rho = np.sqrt((u / ia) ** 2 + (v / ib) ** 2)
    psi = np.arctan2(v / ib, u / ia) + ang
    fibres = _iris_streaks(app.texture_seed)[((psi * (720 / (2 * math.pi))).astype(np.int32)) % 720]
    limbus = np.clip((rho - 0.82) / 0.18, 0, 1)  # the iris darkens towards its rim
    iris_tex = app.iris * light[ys, xs] + 16.0 * fibres * (1.0 - rho) - 35.0 * limbus
    roi = eye[ys, xs]
    roi += iris_cov * (iris_tex - roi)
    pupil_cov = _soft_ellipse(u, v, ell.major / 2, max(ell.minor / 2, 0.5), 1.2 * k)
    roi += pupil_cov * (app.pupil - roi)

    glints = glint_points(geom, gaze, k)[: app.n_leds]
    _draw_spots(eye, xx, yy, glints, 1.1 * k, app.glint, size)
    if aug.reflections_mm:
        ambient = glint_points(dataclasses.replace(geom, leds_cam_mm=aug.reflections_mm), gaze, k)
        _draw_spots(eye, xx, yy, ambient, aug.reflection_sigma * k, 0.92 * app.glint, size)

    img = skin + opening * (eye - skin)
    marks = np.zeros((size, size), np.uint8)
    crease_px = np.round(crease * _ONE).astype(np.int32)
    cv2.polylines(marks, [crease_px], False, 90, max(1, round(2 * k)), cv2.LINE_AA, _SHIFT)
    _draw_lashes(marks, upper, app, k)
    img -= marks.astype(np.float32) * (1.0 / 255.0) * (img - 18.0)

    if aug.blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), aug.blur_sigma * k)
    if aug.gain != 1.0 or aug.offset != 0.0:
        img = img * aug.gain + aug.offset
    if aug.noise_sigma > 0:
        img += aug.noise_sigma * _noise(rng, size)
    out = cv2.convertScaleAbs(cv2.max(img, 0.0))  # rounds and saturates to 0..255

    pupil_area = float(pupil_cov.sum())
    visible = float((pupil_cov * opening[ys, xs]).sum()) / pupil_area if pupil_area > 0 else 0.0
    truth = EyeTruth(
        cx=ell.cx,
        cy=ell.cy,
        major=ell.major,
        minor=ell.minor,
        angle_deg=ell.angle_deg,
        openness=float(state.openness),
        blink=bool(state.blink),
        pupil_visible=visible,
        glints=tuple(glints),
    )
    return out, truth


def _draw_spots(
    eye: np.ndarray, xx: np.ndarray, yy: np.ndarray, points: list[tuple[float, float]], sigma: float,
    level: float, size: int,
) -> None:
    """Gaussian highlights (corneal reflections) blended towards ``level``."""
    r = int(math.ceil(4 * sigma))
    for gx, gy in points:
        x0, y0 = int(round(gx)), int(round(gy))
        gxs, gys = slice(max(x0 - r, 0), min(x0 + r + 1, size)), slice(max(y0 - r, 0), min(y0 + r + 1, size))
        if gxs.start >= gxs.stop or gys.start >= gys.stop:
            continue
        spot = np.exp(-((xx[gys, gxs] - gx) ** 2 + (yy[gys, gxs] - gy) ** 2) / (2 * sigma * sigma))
        eye[gys, gxs] += spot * (level - eye[gys, gxs])


def _draw_lashes(marks: np.ndarray, upper: np.ndarray, app: EyeAppearance, k: float) -> None:
    """Lashes hang off the upper lid margin, so they ride down with it in a blink."""
    seg = np.diff(upper, axis=0)
    seg_len = np.maximum(np.hypot(seg[:, 0], seg[:, 1]), 1e-6)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    if cum[-1] < 1e-3:
        return
    params = _lash_params(app.texture_seed, app.lashes)
    s = params[:, 0] * cum[-1]
    i = np.clip(np.searchsorted(cum, s) - 1, 0, len(seg) - 1)
    tangent = seg[i] / seg_len[i, None]
    base = upper[i] + tangent * (s - cum[i])[:, None]
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal *= np.where(normal[:, 1] > 0, -1.0, 1.0)[:, None]  # point away from the opening, up in the image
    ca, sa = np.cos(params[:, 1]), np.sin(params[:, 1])
    d = np.stack([normal[:, 0] * ca - normal[:, 1] * sa, normal[:, 0] * sa + normal[:, 1] * ca], axis=1)
    length = (params[:, 2] * k)[:, None]
    mid = base + d * length * 0.5 + tangent * length * 0.15
    tip = base + d * length + tangent * length * 0.35
    pts = np.round(np.stack([base, mid, tip], axis=1) * _ONE).astype(np.int32)
    cv2.polylines(marks, list(pts), False, 200, 1, cv2.LINE_AA, _SHIFT)
