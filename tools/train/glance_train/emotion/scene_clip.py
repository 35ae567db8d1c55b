"""The scene of one clip: a few objects, one of them the cause, and where the gaze rests frame by frame.

Before the onset the wearer mostly looks at the cause (that is what makes it the cause); afterwards the gaze
behaves as the emotion's ``Expression.gaze`` says, or, in a share of clips, just goes on viewing freely.

A neutral wearer does not only browse three objects: on the device they follow calibration markers to the frame's
corners, jump to the background and back, look down and up. Neutral clips show all of that (``NEUTRAL_GAZE``),
so that where the gaze goes is not by itself read as an emotion (version 1 of the data taught the models exactly
that, and they reported fear and sadness whenever a session's wearer looked at a corner).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glance_train.emotion.expression import EXPRESSIONS
from glance_train.emotion.labels import AFFINITY_P, CAUSE_AFFINITY
from glance_train.synth.scene_objects import CLASSES, PALETTE, SceneObject, SceneWorld

NEUTRAL_GAZE: tuple[tuple[str, float], ...] = (("browse", 0.3), ("wander", 0.45), ("markers", 0.25))
"""Gaze behaviours of neutral clips and their shares: dwell on the objects; view freely (objects and background
points anywhere in the frame, as the session generator's wearer does); follow calibration markers."""
FREE_VIEW_P = 0.5
"""Share of emotional clips whose wearer goes on viewing freely after the onset instead of showing the emotion's
gaze behaviour. Version 2 had 0.3, and there only sad clips dwelt at the frame's bottom (objects sat at 35-60 %
of the height): on a generated session a neutral dwell on an object low in the frame read as sadness."""
OBJECT_Y = (0.15, 0.85)
"""Objects' height in the frame (fraction): anywhere, as in the session generator's scenes (version 2: 0.35-0.6),
so dwelling low or high on an object is something every class does."""
MARKER_POINTS: tuple[tuple[float, float], ...] = (
    *((fx, fy) for fy in (0.1, 0.5, 0.9) for fx in (0.1, 0.5, 0.9)),
    (0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7),
)
"""The 9-point calibration grid and the 4 validation points (synth/gaze_script.py), shown in this order."""
MARKER_FRAMES = 4
"""One marker is shown for a second (4 frames at 4 Hz)."""
SCENE_W, SCENE_H = 160, 120
"""Stored scene frames are small: the model sees only a crop at the gaze, and 70k frames must fit a cache."""


@dataclass(frozen=True)
class ClipScene:
    world: SceneWorld
    cause_id: int
    gaze: np.ndarray
    """(T, 2) gaze in normalised scene coordinates (0..1, x right, y down)."""
    on_object: np.ndarray
    """(T,) id of the object under the gaze, -1 for none."""


def cause_class(rng: np.random.Generator, emotion: str) -> str:
    preferred = CAUSE_AFFINITY[emotion]
    if preferred is not None and rng.random() < AFFINITY_P:
        return preferred
    return str(rng.choice(CLASSES))


def make_world(rng: np.random.Generator, cause: str) -> tuple[SceneWorld, int]:
    """Three objects of distinct classes in three loose slots; returns the world and the cause's id."""
    others = [c for c in CLASSES if c != cause]
    classes = [cause, *(str(c) for c in rng.choice(others, 2, replace=False))]
    order = rng.permutation(3)
    objects = []
    for i, cls in enumerate(classes):
        slot = int(order[i])
        size = float(rng.uniform(20, 28))
        bx = SCENE_W * (0.2 + 0.3 * slot) + rng.uniform(-8, 8)
        by = SCENE_H * rng.uniform(*OBJECT_Y)
        jitter = rng.integers(-25, 26, 3)
        colour = tuple(int(np.clip(c + d, 0, 255)) for c, d in zip(PALETTE[cls], jitter, strict=True))
        ph = rng.uniform(0, 2 * math.pi, 4)
        objects.append(
            SceneObject(
                id=i,
                cls=cls,
                size=size,
                colour=(colour[0], colour[1], colour[2]),
                depth=i,
                base=(float(bx), float(by)),
                amp=(float(rng.uniform(0, 4)), float(rng.uniform(0, 3)), 0.5, 0.5),
                freq=(float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.2, 0.4))),
                phase=(float(ph[0]), float(ph[1]), float(ph[2]), float(ph[3])),
                pace=0.3,
            )
        )
    return SceneWorld(SCENE_W, SCENE_H, tuple(objects), int(rng.integers(0, 2**31))), 0


def _target(
    rng: np.random.Generator, behaviour: str, world: SceneWorld, cause: int, current: int
) -> tuple[int, tuple[float, float] | None]:
    """(object id or -1, a background point when the id is -1) for one post-onset frame."""
    n = len(world.objects)
    others = [i for i in range(n) if i != cause]
    if behaviour == "stare":
        return (cause, None) if rng.random() < 0.95 else (int(rng.choice(others)), None)
    if behaviour == "dwell":
        return (cause, None) if rng.random() < 0.85 else (int(rng.choice(others)), None)
    if behaviour == "scan":
        if rng.random() < 0.5:
            return -1, (float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.1, 0.9)))
        return int(rng.integers(0, n)), None
    if behaviour == "drop":
        if rng.random() < 0.75:
            return -1, (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.82, 0.97)))
        return cause, None
    if behaviour == "avert":
        if rng.random() < 0.2:
            return cause, None
        if rng.random() < 0.5:
            return -1, (float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.05, 0.25)))
        return int(rng.choice(others)), None
    # browse: hold the current object for a while, then move to any
    if current >= 0 and rng.random() < 0.7:
        return current, None
    return int(rng.integers(0, n)), None


def free_view(rng: np.random.Generator, world: SceneWorld, frames: int) -> list[tuple[int, tuple[float, float] | None]]:
    """Free viewing for ``frames`` frames, as the session's wearer does: dwells of 1-2.6 s on an object, or 1-3
    short looks (1-3 frames) at background points anywhere in the frame."""
    n = len(world.objects)
    out: list[tuple[int, tuple[float, float] | None]] = []
    last = -1
    while len(out) < frames:
        choices = [i for i in range(n) if i != last]
        if rng.random() < 0.6:
            last = int(rng.choice(choices))
            out += [(last, None)] * int(rng.integers(4, 11))
            continue
        last = -1
        for _ in range(int(rng.integers(1, 4))):
            point = (float(rng.uniform(0.06, 0.94)), float(rng.uniform(0.06, 0.94)))
            out += [(-1, point)] * int(rng.integers(1, 4))
    return out[:frames]


def marker_view(rng: np.random.Generator, frames: int) -> list[tuple[int, tuple[float, float] | None]]:
    """Following calibration markers from a random point of the sequence, landing slightly off each."""
    start = int(rng.integers(0, len(MARKER_POINTS)))
    out: list[tuple[int, tuple[float, float] | None]] = []
    k = start
    while len(out) < frames:
        fx, fy = MARKER_POINTS[k % len(MARKER_POINTS)]
        bias = rng.normal(0.0, 0.015, 2)
        out += [(-1, (fx + float(bias[0]), fy + float(bias[1])))] * MARKER_FRAMES
        k += 1
    shift = int(rng.integers(0, MARKER_FRAMES))  # the clip may start mid-marker
    return out[shift : shift + frames] if shift + frames <= len(out) else out[:frames]


def _neutral_plan(
    rng: np.random.Generator, world: SceneWorld, frames: int
) -> list[tuple[int, tuple[float, float] | None]] | None:
    """A neutral clip's whole gaze plan, or None for browsing (frame by frame, as before)."""
    names = [b for b, _ in NEUTRAL_GAZE]
    shares = np.array([p for _, p in NEUTRAL_GAZE])
    behaviour = names[int(rng.choice(len(names), p=shares / shares.sum()))]
    if behaviour == "wander":
        return free_view(rng, world, frames)
    if behaviour == "markers":
        return marker_view(rng, frames)
    return None


def gaze_path(
    rng: np.random.Generator, world: SceneWorld, cause: int, emotion: str, t_s: np.ndarray, onset_s: float
) -> tuple[np.ndarray, np.ndarray]:
    behaviour = EXPRESSIONS[emotion].gaze
    plan = _neutral_plan(rng, world, len(t_s)) if emotion == "neutral" else None
    if behaviour != "browse" and rng.random() < FREE_VIEW_P:
        # not everyone shows it in the gaze: they go on viewing freely
        after = int(np.searchsorted(t_s, onset_s))
        plan = [(cause, None)] * after + free_view(rng, world, len(t_s) - after)
        behaviour = "browse"
    centres = world.centers(t_s)  # (n, T, 2)
    boxes = world.bboxes(t_s) / [world.width, world.height, world.width, world.height]  # (n, T, 4) normalised
    gaze = np.zeros((len(t_s), 2))
    on = np.full(len(t_s), -1, np.int64)
    current = cause
    for k, t in enumerate(t_s):
        if plan is not None and (emotion == "neutral" or t >= onset_s):
            current, point = plan[k]
        elif t < onset_s:
            current = cause if rng.random() < 0.8 else int(rng.integers(0, len(world.objects)))
            point = None
        else:
            current, point = _target(rng, behaviour, world, cause, current)
        if current >= 0:
            x, y = centres[current, k]
            gaze[k] = (x / world.width, y / world.height)
            on[k] = current
        else:
            assert point is not None
            gaze[k] = point
            # a look "at the background" that lands on an object is a look at that object (the cause label)
            x0, y0, bw, bh = boxes[:, k, 0], boxes[:, k, 1], boxes[:, k, 2], boxes[:, k, 3]
            hit = np.flatnonzero((x0 <= point[0]) & (point[0] <= x0 + bw) & (y0 <= point[1]) & (point[1] <= y0 + bh))
            if len(hit):
                on[k] = int(hit[0])
    gaze += rng.normal(0.0, 0.012, gaze.shape)  # fixational jitter and tracker noise
    return np.clip(gaze, 0.0, 1.0), on


def clip_scene(rng: np.random.Generator, emotion: str, t_s: np.ndarray, onset_s: float) -> ClipScene:
    world, cause = make_world(rng, cause_class(rng, emotion))
    gaze, on = gaze_path(rng, world, cause, emotion, t_s, onset_s)
    return ClipScene(world, cause, gaze, on)
