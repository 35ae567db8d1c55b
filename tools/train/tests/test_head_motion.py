"""The head-motion profiles of the key-frame sequences: the eyewear profile is bursty and large (still, pursuit,
head turns), the original one stays as it was, and the motion measure sees the difference."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from glance_train.keyframe import sequences
from glance_train.keyframe.head_motion import EYEWEAR_MARGIN, PX_PER_DEG, TURN_DEG, make_eyewear_head, speed_deg_s
from glance_train.keyframe.motion_profile import profile_report


def test_an_eyewear_head_has_still_pursuit_and_turn_segments_inside_the_room() -> None:
    kinds: set[str] = set()
    for seed in range(20):
        head = make_eyewear_head(np.random.default_rng(seed), 3.2)
        kinds |= {s.kind for s in head.segments}
        t = np.arange(96) / 30.0
        off = head.offset(t)
        assert np.abs(off[:, 0]).max() <= EYEWEAR_MARGIN[0] and np.abs(off[:, 1]).max() <= EYEWEAR_MARGIN[1]
        assert head.segments[0].start == 0.0 and head.segments[-1].start + head.segments[-1].duration >= 3.2
        for s in head.segments:
            if s.kind == "turn":  # a turn may stop early at the room's edge, never go further than asked
                assert abs(s.dx) <= TURN_DEG[1] * PX_PER_DEG + 1e-6
            if s.kind == "still":
                assert np.hypot(s.dx, s.dy) / s.duration <= 1.0 * PX_PER_DEG + 1e-6
    assert kinds == {"still", "pursuit", "turn"}


def test_head_turns_are_fast_and_still_segments_are_still() -> None:
    head = make_eyewear_head(np.random.default_rng(3), 10.0)
    t = np.arange(300) / 30.0
    speed = speed_deg_s(head.offset(t), 30.0)
    kinds = head.kinds(t)
    turning = np.array([k == "turn" for k in kinds])
    still = np.array([k == "still" for k in kinds])
    assert turning.any() and still.any()
    assert speed[turning].max() > 100.0  # a head saccade: over 100 deg/s at its peak
    assert np.median(speed[still]) < 2.0  # drift + tremor


def test_the_eyewear_profile_moves_more_and_more_burstily_than_the_original() -> None:
    old = profile_report(1000, 4, 96, "drift-turns")
    new = profile_report(1000, 4, 96, "eyewear")
    assert new["image"]["max"] > 2 * old["image"]["max"]
    assert new["head_fast_share"] > old["head_fast_share"]
    assert new["head_still_share"] > 0.3  # still most of the time, not a constant pan


def test_the_original_profile_is_unchanged_and_the_profile_is_recorded(tmp_path: Path) -> None:
    meta = sequences.write_sequence(tmp_path / "old", seed=42, frames=3)
    assert meta["profile"] == "drift-turns"
    # Bytes the generator wrote for seed 42 before the eyewear profile existed (commit 8669f36): the original
    # profile (section 4's sequences, the committed drift-turns traces) renders exactly as it did.
    before = {"frames.u8": "75bb30f446725466", "labels.u8": "29e28c9fd1eedc1e", "bgr-s100.u8": "43786a86a54e80d8",
              "grey40.u8": "20cf7710424a7a4d"}
    for name, digest in before.items():
        assert hashlib.sha256((tmp_path / "old" / name).read_bytes()).hexdigest()[:16] == digest, name
    assert json.loads((tmp_path / "old" / "sequence.json").read_text())["headTurns"] == meta["headTurns"]
    new = sequences.write_sequence(tmp_path / "new", seed=42, frames=3, profile="eyewear")
    assert new["profile"] == "eyewear"
    frames = np.fromfile(tmp_path / "new" / "frames.u8", np.uint8).reshape(3, 120, 160)
    assert frames.std() > 10
    with pytest.raises(ValueError, match="head-motion profile"):
        sequences.world_and_head(42, 3, "bogus")
