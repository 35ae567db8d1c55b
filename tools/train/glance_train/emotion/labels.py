"""The seven emotions (EMO-Film's classes) and the scene categories an emotion's cause can belong to."""

from __future__ import annotations

from glance_train.synth.scene_objects import CLASSES

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fear", "surprise", "disgust")
"""Order of the models' logits; the device reads it from the manifest's labels."""

CAUSE_CLASSES: tuple[str, ...] = ("background", *CLASSES)
"""What the gaze rests on in a scene frame: nothing in particular, or one of the synthetic scene's objects."""

CAUSE_AFFINITY: dict[str, str | None] = {
    "neutral": None,
    "happy": "ball",
    "surprise": "ball",
    "sad": "plant",
    "angry": "phone",
    "fear": "phone",
    "disgust": "cup",
}
"""The object class that most often causes each emotion in the synthetic data (None: any class alike).

The pairs are chosen so the scene separates emotions the eyes confuse (happy, angry and disgust all narrow the
eye; fear and surprise both widen it) and the eyes separate emotions the scene confuses (happy and surprise share
the ball, angry and fear the phone): then, and only then, the attended scene adds information to the eyes.
"""

AFFINITY_P = 0.6
"""Probability that a clip's cause is its emotion's class; otherwise any class, uniformly."""


def emotion_index(name: str) -> int:
    try:
        return EMOTIONS.index(name)
    except ValueError:
        raise ValueError(f"unknown emotion {name!r}; known: {', '.join(EMOTIONS)}") from None


def cause_index(name: str) -> int:
    """Index in CAUSE_CLASSES; an empty name is the background."""
    if not name:
        return 0
    try:
        return CAUSE_CLASSES.index(name)
    except ValueError:
        raise ValueError(f"unknown scene class {name!r}; known: {', '.join(CAUSE_CLASSES)}") from None
