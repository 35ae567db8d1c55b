"""Frame-by-frame rendering of a session's camera streams from the behaviour timeline.

Each stream is a generator of frames that also fills a columnar truth dict, so a video can be encoded while it
is rendered without holding thousands of frames in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from glance_train.synth.eye_model import EyeGeometry, gaze_from_scene
from glance_train.synth.eye_render import render_eye
from glance_train.synth.eye_state import EyeAppearance, EyeAugment, EyeState
from glance_train.synth.gaze_script import Timeline
from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.scene_objects import SceneWorld
from glance_train.synth.scene_render import render_scene
from glance_train.synth.seeding import child_rng
from glance_train.synth.slippage import Slip, slipped_geometry

Truth = dict[str, Any]
"""Columnar ground truth of one stream: JSON-ready lists keyed by groundtruth.json field names."""

ExpressionHook = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""(t_s, openness, pupil_mm) -> (openness, squint, pupil_mm): an expression laid over the timeline's eye
(glance_train.emotion.session uses it for emotion episodes). Must pickle: streams render in worker
processes."""


def relative_us(times_ns: np.ndarray, t0_ns: int) -> np.ndarray:
    """Integer µs since the clock origin: exact in JSON numbers, unlike raw ns (the .ts files keep those)."""
    return np.round((np.asarray(times_ns, np.int64) - t0_ns) / 1000.0).astype(np.int64)


def scale_rotation(gazes: np.ndarray, scale: float) -> np.ndarray:
    """Gaze directions (..., 3) with their azimuth and elevation from straight ahead multiplied by ``scale``."""
    az = np.arctan2(gazes[..., 0], gazes[..., 2]) * scale
    el = np.arcsin(np.clip(-gazes[..., 1], -1.0, 1.0)) * scale
    return np.stack([np.sin(az) * np.cos(el), -np.sin(el), np.cos(az) * np.cos(el)], axis=-1)


def eye_frames(
    geom: EyeGeometry,
    app: EyeAppearance,
    timeline: Timeline,
    camera: SceneCamera,
    times_ns: np.ndarray,
    t0_ns: int,
    seed: int,
    stream: str,
    truth: Truth,
    size: int = 192,
    pupil_scale: float = 1.0,
    augment: EyeAugment | None = None,
    slip: Slip | None = None,
    expression: ExpressionHook | None = None,
) -> Iterator[np.ndarray]:
    """Grey eye images at ``times_ns``; ``truth`` gets one entry per frame in each column.

    With ``slip`` the eye camera moves relative to the eye from ``slip.at_s`` on (labels follow the image).
    Without ``expression`` every frame is exactly what it was before the option existed.
    """
    t_us = relative_us(times_ns, t0_ns)
    s = timeline.sample(t_us)
    openness, pupil_mm, squint = s.openness, s.pupil_mm, np.zeros(len(t_us))
    if expression is not None:
        openness, squint, pupil_mm = expression(t_us / 1e6, s.openness, s.pupil_mm)
    gazes = gaze_from_scene(geom, camera.rays(s.gaze[:, 0], s.gaze[:, 1]))
    if expression is not None and getattr(expression, "gaze_scale", 1.0) != 1.0:
        gazes = scale_rotation(gazes, float(expression.gaze_scale))  # type: ignore[attr-defined]
    cols: dict[str, list[float]] = {k: [] for k in ("cx", "cy", "major", "minor", "angleDeg", "openness",
                                                    "pupilVisible")}
    blink: list[int] = []
    for i in range(len(t_us)):
        moved = slip.fraction(float(t_us[i]) / 1e6) if slip is not None else 0.0
        frame_geom = geom
        if slip is not None and moved:
            frame_geom = slipped_geometry(geom, (slip.px[0] * moved, slip.px[1] * moved))
        state = EyeState(
            geometry=frame_geom,
            appearance=app,
            gaze=(float(gazes[i, 0]), float(gazes[i, 1]), float(gazes[i, 2])),
            pupil_radius_mm=float(pupil_mm[i]) * pupil_scale / 2.0,
            openness=float(openness[i]),
            blink=bool(s.blink[i]),
            squint=float(squint[i]),
        )
        # One generator per frame: frames can be rendered in any order or process and stay identical.
        img, t = render_eye(state, child_rng(seed, stream, "frame", i), size, augment)
        values = (t.cx, t.cy, t.major, t.minor, t.angle_deg, t.openness, t.pupil_visible)
        for column, value in zip(cols.values(), values, strict=True):
            column.append(value)
        blink.append(int(t.blink))
        yield img
    truth["tUs"] = t_us.tolist()
    truth.update(cols)
    truth["blink"] = blink
    truth["gazeX"] = s.gaze[:, 0].tolist()
    truth["gazeY"] = s.gaze[:, 1].tolist()


def scene_frames(
    world: SceneWorld, timeline: Timeline, times_ns: np.ndarray, t0_ns: int, truth: Truth
) -> Iterator[np.ndarray]:
    """BGR scene frames at ``times_ns`` with the calibration marker while one is shown."""
    t_us = relative_us(times_ns, t0_ns)
    s = timeline.sample(t_us)
    boxes: list[list[list[float]]] = [[] for _ in world.objects]
    visible: list[list[float]] = [[] for _ in world.objects]
    for i, tu in enumerate(t_us):
        m = timeline.marker_at(float(tu))
        img, t = render_scene(world, float(times_ns[i] - t0_ns) / 1e9, (m.x, m.y) if m else None)
        for k in range(len(world.objects)):
            boxes[k].append(t.bboxes[k].tolist())
            visible[k].append(float(t.visible[k]))
        yield img
    truth["tUs"] = t_us.tolist()
    truth["gazeX"] = s.gaze[:, 0].tolist()
    truth["gazeY"] = s.gaze[:, 1].tolist()
    truth["attended"] = s.attended.tolist()
    truth["objects"] = [
        {"id": o.id, "cls": o.cls, "bbox": boxes[o.id], "visible": visible[o.id]} for o in world.objects
    ]
