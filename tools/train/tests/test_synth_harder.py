"""The generator's harder-sequence options: slippage, sensor noise, ambient reflections. Off by default."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from glance_train.synth import EyeAugment, render_eye
from glance_train.synth.eye_model import gaze_from_scene, make_eye_geometry, pupil_ellipse
from glance_train.synth.eye_state import EyeAppearance, EyeState
from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.seeding import child_rng
from glance_train.synth.session import SessionConfig, generate_session, main
from glance_train.synth.slippage import Slip, slipped_geometry


def test_slip_moves_the_eyeball_centre_by_the_requested_pixels() -> None:
    g = make_eye_geometry("right", child_rng(1, "eye0", "geometry"))
    s = slipped_geometry(g, (5.0, -4.0))
    (x0, y0), (x1, y1) = g.eyeball_center_px(), s.eyeball_center_px()
    assert (x1 - x0, y1 - y0) == pytest.approx((5.0, -4.0), abs=1e-9)
    assert s.eye_position_mm == g.eye_position_mm and s.rotation == g.rotation
    # A translation, not a rotation: the pupil, nearer the camera, moves further than the centre.
    gaze = gaze_from_scene(g, SceneCamera().rays(320.0, 240.0))
    a, b = pupil_ellipse(g, gaze, 2.4), pupil_ellipse(s, gaze, 2.4)
    assert np.hypot(b.cx - a.cx, b.cy - a.cy) > 1.1 * np.hypot(5.0, 4.0)
    assert slipped_geometry(g, (0.0, 0.0)) is g


def test_slip_ramps_smoothly() -> None:
    slip = Slip(at_s=10.0, px=(5.0, -4.0), ramp_s=0.5)
    assert [slip.fraction(t) for t in (9.0, 10.0, 10.25, 10.5, 20.0)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert Slip(at_s=1.0, px=(1.0, 0.0), ramp_s=0.0).fraction(1.001) == 1.0


def test_reflections_are_drawn_only_when_asked_for() -> None:
    rng = child_rng(3, "state")
    geom = make_eye_geometry("left", rng)
    state = EyeState(geom, EyeAppearance(texture_seed=5), gaze=(0.0, 0.0, 1.0), pupil_radius_mm=2.5,
                     openness=1.0)
    plain, _ = render_eye(state, child_rng(3, "frame"))
    default, _ = render_eye(state, child_rng(3, "frame"), augment=EyeAugment())
    assert np.array_equal(plain, default)
    sources = ((-10.0, 5.0, 0.0), (8.0, -12.0, 2.0), (0.0, 0.0, -3.0))
    lit, _ = render_eye(state, child_rng(3, "frame"), augment=EyeAugment(reflections_mm=sources))
    assert int((lit.astype(int) - plain.astype(int)).max()) > 60
    assert (lit >= 200).sum() > (plain >= 200).sum()


def test_default_session_is_unchanged_by_the_new_options(tmp_path: Path) -> None:
    cfg = SessionConfig(seconds=1.0, seed=4, jobs=1)
    assert cfg.eye_augment(4) is None
    generate_session(tmp_path / "a", cfg, progress=False)
    truth = json.loads((tmp_path / "a" / "groundtruth.json").read_text())
    assert "slip" not in truth and "eyeAugment" not in truth


def test_slipped_noisy_session_records_what_was_done(tmp_path: Path) -> None:
    common = ["--seconds", "1.2", "--seed", "4", "--jobs", "1", "--quiet",
              "--eye-noise", "6", "--reflections", "2"]
    assert main(["--out", str(tmp_path / "still"), *common]) == 0
    assert main(["--out", str(tmp_path / "slip"), *common, "--slip-at", "0.5", "--slip-px", "4,-3",
                 "--slip-ramp", "0.2"]) == 0
    still = json.loads((tmp_path / "still" / "groundtruth.json").read_text())
    truth = json.loads((tmp_path / "slip" / "groundtruth.json").read_text())
    assert truth["slip"]["px"] == [4.0, -3.0] and truth["slip"]["atUs"] == 500_000 and "slip" not in still
    assert truth["eyeAugment"] == {"noiseSigma": 6.0, "blurSigma": 0.7, "reflections": 2}
    t = np.array(truth["eye0"]["tUs"])
    dx = np.array(truth["eye0"]["cx"]) - np.array(still["eye0"]["cx"])
    dy = np.array(truth["eye0"]["cy"]) - np.array(still["eye0"]["cy"])
    assert np.abs(dx[t < 500_000]).max() == 0 and np.abs(dy[t < 500_000]).max() == 0
    # After the ramp the pupil has moved with the camera, a little further than the eyeball centre did.
    after = t > 700_000
    assert 1.0 < (dx[after] / 4.0).min() and (dx[after] / 4.0).max() < 1.5
    assert 1.0 < (dy[after] / -3.0).min() and (dy[after] / -3.0).max() < 1.5


BAD = [["--slip-at", "1"], ["--slip-px", "1,2"], ["--slip-at", "1", "--slip-px", "1"],
       ["--reflections", "-1"], ["--eye-noise", "-2"]]


@pytest.mark.parametrize("argv", BAD)
def test_bad_harder_options_are_refused(tmp_path: Path, argv: list[str]) -> None:
    try:
        code = main(["--out", str(tmp_path / "x"), "--seconds", "1", "--quiet", *argv])
    except SystemExit as exc:  # argparse refuses malformed values itself
        code = exc.code
    assert code == 2
    assert not (tmp_path / "x").exists()
