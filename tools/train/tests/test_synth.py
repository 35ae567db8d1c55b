"""Synthetic session generator: format contract, determinism and label/pixel agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from glance_train.synth import EyeAugment, random_eye_state, render_eye
from glance_train.synth.gaze_script import BLINK_OPENNESS, CALIBRATION, VALIDATION, build_timeline
from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.scene_objects import make_world
from glance_train.synth.serial_log import checksum, line_is_valid
from glance_train.synth.session import SessionConfig, generate_session, main

SECONDS = 3.0
SEED = 3
STREAMS = ("eye0", "eye1", "scene")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same seed generated twice: once in-process, once through the CLI with worker processes."""
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    generate_session(a, SessionConfig(seconds=SECONDS, seed=SEED, jobs=1), progress=False)
    argv = ["--out", str(b), "--seconds", str(SECONDS), "--seed", str(SEED), "--jobs", "3", "--quiet"]
    assert main(argv) == 0
    return a, b


@pytest.fixture(scope="module")
def session(sessions: tuple[Path, Path]) -> Path:
    return sessions[0]


@pytest.fixture(scope="module")
def truth(session: Path) -> dict[str, Any]:
    return json.loads((session / "groundtruth.json").read_text())


def _frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(frame)
    cap.release()
    return out


def _ts(path: Path) -> np.ndarray:
    return np.array([int(line) for line in path.read_text().splitlines()], dtype=np.int64)


def test_same_seed_gives_identical_files(sessions: tuple[Path, Path]) -> None:
    a, b = sessions
    for name in ("groundtruth.json", "session.json", "serial.log", "eye0.ts", "eye1.ts", "scene.ts"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_session_json_contract(session: Path) -> None:
    meta = json.loads((session / "session.json").read_text())
    assert meta["id"] == f"sample-{SEED}"
    assert meta["device"] == "synthetic" and meta["synthetic"] is True
    assert isinstance(meta["startedWallMs"], int)
    assert meta["serial"] == "serial.log"
    assert meta["generator"] == {"name": "glance_train.synth.session", "seed": SEED, "version": 1}
    assert len(meta["sceneCamera"]["cameraMatrix"]) == 9 and len(meta["sceneCamera"]["distCoeffs"]) == 5
    expected = {"eye0": (120, 192, 192), "eye1": (120, 192, 192), "scene": (30, 640, 480)}
    for name, (fps, w, h) in expected.items():
        s = meta["streams"][name]
        assert (s["fps"], s["width"], s["height"]) == (fps, w, h)
        assert s["file"] == f"{name}.mp4" and s["timestamps"] == f"{name}.ts"
        assert (session / s["file"]).is_file() and (session / s["timestamps"]).is_file()


def test_frame_counts_agree(session: Path, truth: dict[str, Any]) -> None:
    for name in STREAMS:
        frames = _frames(session / f"{name}.mp4")
        n = len(_ts(session / f"{name}.ts"))
        assert len(frames) == n > 0
        gt = truth[name]
        for key, column in gt.items():
            if key != "objects":
                assert len(column) == n, (name, key)
        for obj in gt.get("objects", []):
            assert len(obj["bbox"]) == len(obj["visible"]) == n
    assert len(_ts(session / "eye0.ts")) == pytest.approx(SECONDS * 120, abs=2)
    assert len(_ts(session / "scene.ts")) == pytest.approx(SECONDS * 30, abs=1)


def test_timestamps(session: Path, truth: dict[str, Any]) -> None:
    firsts = {}
    for name in STREAMS:
        t = _ts(session / f"{name}.ts")
        assert np.all(np.diff(t) > 0)
        period = 1e9 / (30 if name == "scene" else 120)
        assert np.abs(np.diff(t) - period).max() < 0.5e6  # jitter stays well under a millisecond
        assert t[0] >= truth["t0Ns"]
        rel = np.round((t - truth["t0Ns"]) / 1000).astype(np.int64)
        assert rel.tolist() == truth[name]["tUs"]
        firsts[name] = t[0]
    assert 1e6 <= abs(firsts["eye1"] - firsts["eye0"]) <= 6e6  # free-running, a few ms apart


def test_serial_log(session: Path) -> None:
    lines = (session / "serial.log").read_text().splitlines()
    times, kinds, seqs = [], [], []
    for line in lines:
        t, raw = line.split(" ", 1)
        assert line_is_valid(raw), line
        times.append(int(t))
        fields = raw[1 : raw.index("*")].split(",")
        kinds.append(fields[0])
        seqs.append(int(fields[1]))
    assert times == sorted(times)
    assert seqs == [i % 65536 for i in range(len(seqs))]
    assert kinds.count("IMU") == pytest.approx(SECONDS * 100, abs=1)
    assert kinds.count("BAT") == kinds.count("TMP") == int(SECONDS)
    assert kinds.count("BTN") in (4, 6)
    imu = np.array([[float(v) for v in r.split(" ", 1)[1][1:].split("*")[0].split(",")[2:5]]
                    for r in lines if "$IMU" in r])
    assert np.linalg.norm(imu, axis=1).mean() == pytest.approx(9.81, abs=0.05)
    assert np.abs(imu[:, 1]).mean() > 9.0


def test_checksum_matches_protocol_examples() -> None:
    assert checksum("IMU,17,0.012,-9.806,0.104,0.0012,-0.0003,0.0100") == "4B"
    assert checksum("BAT,3,87,3912,0") == "52"
    assert not line_is_valid("$BAT,3,87,3912,0*53")


def test_pupil_centre_is_dark(session: Path, truth: dict[str, Any]) -> None:
    for name in ("eye0", "eye1"):
        gt = truth[name]
        checked = 0
        for i, frame in enumerate(_frames(session / f"{name}.mp4")):
            if gt["blink"][i] or gt["openness"][i] < 0.6 or gt["pupilVisible"][i] < 0.95:
                continue
            grey = frame[:, :, 0].astype(float)
            x, y = int(round(gt["cx"][i])), int(round(gt["cy"][i]))
            assert grey[y - 1 : y + 2, x - 1 : x + 2].mean() < grey.mean(), (name, i)
            assert gt["minor"][i] <= gt["major"][i]
            checked += 1
        assert checked > 0.8 * len(gt["tUs"])


def test_blink_flags_mean_closed_lids(truth: dict[str, Any]) -> None:
    for name in ("eye0", "eye1"):
        gt = truth[name]
        openness, blink = np.array(gt["openness"]), np.array(gt["blink"])
        assert np.all(openness[blink == 1] < BLINK_OPENNESS)
        assert np.all(openness[blink == 0] >= BLINK_OPENNESS)


def test_timeline_behaviour() -> None:
    camera = SceneCamera()
    world = make_world(np.random.default_rng(5), camera.width, camera.height)
    tl = build_timeline(world, camera, 30.0, np.random.default_rng(6))
    kinds = [m.kind for m in tl.markers]
    assert kinds == ["calibration"] * len(CALIBRATION) + ["validation"] * len(VALIDATION)
    assert len({(m.x, m.y) for m in tl.markers}) == 13
    assert all(m.end_us - m.start_us == 1_000_000 for m in tl.markers)
    blinks = tl.events["blinks"]
    assert 4 <= len(blinks) <= 10
    for b in blinks:
        span = slice(int(b["startUs"]) // 1000, int(b["endUs"]) // 1000)
        assert tl.openness[span].min() < 0.05
        assert 100_000 <= int(b["endUs"]) - int(b["startUs"]) <= 260_000
    assert 4 <= len(world.objects) <= 6
    assert set(np.unique(tl.attended)) <= {-1, *range(len(world.objects))}
    assert (tl.attended[13_500:] >= 0).mean() > 0.5  # free viewing is mostly spent on objects
    for ep in tl.events["attention"]:
        assert int(ep["endUs"]) - int(ep["startUs"]) >= 800_000
    # Gaze settles on each marker within ~0.3 s and stays near it.
    for m in tl.markers:
        settled = tl.gaze[m.start_us // 1000 + 300 : m.end_us // 1000 - 150]
        assert np.abs(settled - [m.x, m.y]).max() < 2 * camera.px_per_deg()


def test_render_eye_api_for_datasets() -> None:
    rng = np.random.default_rng(11)
    state, aug = random_eye_state(rng), EyeAugment.random(rng)
    img, t = render_eye(state, np.random.default_rng(1), size=96, augment=aug)
    again, _ = render_eye(state, np.random.default_rng(1), size=96, augment=aug)
    assert img.dtype == np.uint8 and img.shape == (96, 96)
    assert np.array_equal(img, again)
    assert 0 < t.minor <= t.major < 96 and 0 <= t.angle_deg < 180
    assert 0.0 <= t.openness <= 1.0 and isinstance(t.blink, bool) and 0.0 <= t.pupil_visible <= 1.0
    big, tb = render_eye(state, np.random.default_rng(1), size=192)
    assert big.shape == (192, 192)
    assert (tb.cx, tb.cy, tb.major) == pytest.approx((2 * t.cx, 2 * t.cy, 2 * t.major), rel=1e-9)


def test_cli_rejects_bad_input(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path / "x"), "--seconds", "0"]) == 2
