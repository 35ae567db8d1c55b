"""A synthetic session (DESIGN.md "Session format") whose wearer has emotion episodes, for the emotion stage.

    python3 -m glance_train.emotion.session --out DIR [--seconds 40] [--seed 3] [--eye-fps 30]
        [--scene-fps 15]

The session generator's behaviour (calibration markers, gaze on the scene objects, blinks, pupil) is kept;
an expression over the eye (synth/streams.py ``ExpressionHook``) adds episodes: each starts while the wearer
attends an object whose class is the emotion's cause (labels.CAUSE_AFFINITY) and lasts a few seconds.
groundtruth.json's ``emotion`` lists them with their cause object. The bundled sample session is not changed:
its eye streams would be.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glance_train.emotion.expression import EXPRESSIONS
from glance_train.emotion.labels import CAUSE_AFFINITY
from glance_train.synth.gaze_script import STEP_US, Timeline
from glance_train.synth.scene_objects import SceneWorld
from glance_train.synth.seeding import child_rng
from glance_train.synth.session import SessionConfig, generate_session

WEARER_OPENNESS = 0.78
"""The timeline's relaxed lids (~0.91) scaled to this wearer's, inside the emotion data's wearers (0.68-0.95 since
data version 3, expression.OPENNESS)."""
PUPIL_MM = 4.3
GAZE_SCALE = 0.75
"""The eye's rotations shrunk (the daemon's gaze calibration learns the mapping from the markers as always). Data
version 1's clips turned the eye over +-25 x +-19 degrees, the session's scene camera spans +-32 x +-25; since
version 2 the clips span the whole field, and the test session keeps 0.75 so that its numbers stay comparable
with the earlier versions' (docs/emotion.md)."""
EPISODE_S = (4.0, 5.0)
LEAD_S = 1.0
"""An episode starts this long into a dwell on its cause: the wearer has been looking at it."""


@dataclass(frozen=True)
class EmotionEpisode:
    emotion: str
    onset_s: float
    offset_s: float
    strength: float
    cause_id: int
    cause_cls: str


@dataclass(frozen=True)
class EpisodeExpression:
    """The ExpressionHook: lids, squint and pupil of the episodes' emotions over the timeline's eye."""

    episodes: tuple[EmotionEpisode, ...]
    gaze_scale: float = GAZE_SCALE
    """Read by synth/streams.py: eye rotations shrunk to the emotion data's range (see GAZE_SCALE)."""

    def __call__(
        self, t_s: np.ndarray, openness: np.ndarray, pupil_mm: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = openness * (WEARER_OPENNESS / 0.91)
        delta_open = np.zeros(len(t_s))
        squint = np.full(len(t_s), 0.08)
        # A wearer in steady light: the emotion data's pupil (a baseline and a slow, small wander), not the sample
        # timeline's, whose light-driven swings of +-1.6 mm would read as arousal to a model trained on the former.
        pupil = PUPIL_MM + 0.15 * np.sin(2 * np.pi * t_s / 6.0)
        for ep in self.episodes:
            e = EXPRESSIONS[ep.emotion]
            rise = np.clip((t_s - ep.onset_s) / 0.6, 0.0, 1.0)
            fall = np.clip((ep.offset_s - t_s) / 0.6, 0.0, 1.0)
            on = np.minimum(rise, fall) * ep.strength
            delta_open += e.open_delta * on
            squint += e.squint * on
            pupil += e.pupil_delta_mm * on
        # A blink scales the lids down; the expression adds to the open lids only.
        lids = np.clip(scale + delta_open * (openness / 0.91), 0.0, 1.0)
        return lids, np.clip(squint, 0.0, 1.0), np.clip(pupil, 2.0, 8.0)


def plan_episodes(
    timeline: Timeline, world: SceneWorld, rng: np.random.Generator
) -> tuple[EmotionEpisode, ...]:
    """Episodes that start LEAD_S into a dwell on an object that causes some emotion, after calibration."""
    by_class: dict[str, list[str]] = {}
    for emotion, cls in CAUSE_AFFINITY.items():
        if cls is not None:
            by_class.setdefault(cls, []).append(emotion)
    start_ms = max((m.end_us // STEP_US for m in timeline.markers), default=0) + 1000
    att = timeline.attended
    episodes: list[EmotionEpisode] = []
    i = int(start_ms)
    while i < len(att):
        obj = int(att[i])
        j = i
        while j < len(att) and att[j] == obj:
            j += 1
        cls = world.objects[obj].cls if obj >= 0 else None
        if cls in by_class and j - i >= LEAD_S * 1000 + 800:
            onset = (i + LEAD_S * 1000) / 1000.0
            offset = onset + float(rng.uniform(*EPISODE_S))
            if offset * 1000 < len(att) - 1500:
                emotion = str(rng.choice(by_class[cls]))
                strength = float(rng.uniform(0.9, 1.2))
                episodes.append(EmotionEpisode(emotion, onset, offset, strength, obj, cls))
                i = int((offset + 2.0) * 1000)  # a calm gap before the next one
                continue
        i = max(j, i + 1)
    return tuple(episodes)


def expressor(seed: int):  # noqa: ANN201 - returns the session's Expressor
    def make(timeline: Timeline, world: SceneWorld) -> tuple[EpisodeExpression, dict[str, object]]:
        episodes = plan_episodes(timeline, world, child_rng(seed, "emotion"))
        truth = {
            "episodes": [
                {"emotion": e.emotion, "onsetUs": int(e.onset_s * 1e6), "offsetUs": int(e.offset_s * 1e6),
                 "strength": round(e.strength, 3), "causeObjectId": e.cause_id, "causeClass": e.cause_cls}
                for e in episodes
            ],
            "note": "synthetic expressions (glance_train.emotion.expression); times from the clock origin",
        }
        return EpisodeExpression(episodes), truth

    return make


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.emotion.session", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seconds", type=float, default=40.0)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--eye-fps", type=float, default=30.0)
    p.add_argument("--scene-fps", type=float, default=15.0)
    p.add_argument("--jobs", type=int, default=1)
    args = p.parse_args(argv)
    if args.seconds < 15 or not math.isfinite(args.seconds):
        print("session: --seconds must be at least 15 (calibration comes first)", file=sys.stderr)
        return 2
    cfg = SessionConfig(seconds=args.seconds, seed=args.seed, eye_fps=args.eye_fps, scene_fps=args.scene_fps,
                        jobs=args.jobs)
    summary = generate_session(args.out, cfg, progress=False, expressor=expressor(args.seed))
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
