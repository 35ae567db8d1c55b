"""The scene of one clip: a few objects, one of them the cause, and where the gaze rests frame by frame.

Before the onset the wearer mostly looks at the cause (that is what makes it the cause); afterwards the gaze
behaves as the emotion's ``Expression.gaze`` says, or, in a share of clips, just keeps browsing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glance_train.emotion.expression import EXPRESSIONS
from glance_train.emotion.labels import AFFINITY_P, CAUSE_AFFINITY
from glance_train.synth.scene_objects import CLASSES, PALETTE, SceneObject, SceneWorld

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
        by = SCENE_H * rng.uniform(0.35, 0.6)
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


def gaze_path(
    rng: np.random.Generator, world: SceneWorld, cause: int, emotion: str, t_s: np.ndarray, onset_s: float
) -> tuple[np.ndarray, np.ndarray]:
    behaviour = EXPRESSIONS[emotion].gaze
    if behaviour != "browse" and rng.random() < 0.3:
        behaviour = "browse"  # not everyone shows it in the gaze
    centres = world.centers(t_s)  # (n, T, 2)
    gaze = np.zeros((len(t_s), 2))
    on = np.full(len(t_s), -1, np.int64)
    current = cause
    for k, t in enumerate(t_s):
        if t < onset_s:
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
    gaze += rng.normal(0.0, 0.012, gaze.shape)  # fixational jitter and tracker noise
    return np.clip(gaze, 0.0, 1.0), on


def clip_scene(rng: np.random.Generator, emotion: str, t_s: np.ndarray, onset_s: float) -> ClipScene:
    world, cause = make_world(rng, cause_class(rng, emotion))
    gaze, on = gaze_path(rng, world, cause, emotion, t_s, onset_s)
    return ClipScene(world, cause, gaze, on)
